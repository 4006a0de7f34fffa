/// One row of a declarative settings table: an INI name, its type, default, reload rule, one-line doc,
/// and how to parse a value into `Target` and render it back.
///
/// `SettingsTable.all` holds the `[pgbouncer]` rows (`Target == Settings`); `DatabaseConfig.parameters`
/// and `UserConfig.parameters` hold the connection-string keys of `[databases]` and `[users]`.
/// Parsing, validation, `SHOW CONFIG`, `SET` and docs/configuration.md all read these rows.
public struct ParameterDefinition<Target>: Sendable {
    /// The INI spelling, lowercase: `query_wait_timeout`.
    public let name: String
    /// What values it accepts.
    public let kind: ParameterKind
    /// The default as INI text, as `SHOW CONFIG` would print it; empty when unset.
    public let defaultText: String
    /// Whether a reload (SIGHUP, `RELOAD`) may change it; false means only a restart does.
    public let reloadable: Bool
    /// False for PgBouncer settings accepted and stored as text with no effect yet.
    public let hasEffect: Bool
    /// One sentence for docs and `SHOW CONFIG`.
    public let doc: String

    /// Shown by `currentText` when the target holds no value (nil, or absent from `passthrough`).
    let unsetText: String
    /// Parses `text` and stores it in the target.
    let store: @Sendable (_ text: String, _ target: inout Target) throws(InvalidSettingValue) -> Void
    /// The target's value as INI text; nil when unset.
    let render: @Sendable (_ target: Target) -> String?

    init(
        name: String,
        kind: ParameterKind,
        unsetText: String,
        reloadable: Bool,
        hasEffect: Bool,
        doc: String,
        store: @escaping @Sendable (String, inout Target) throws(InvalidSettingValue) -> Void,
        render: @escaping @Sendable (Target) -> String?
    ) {
        self.name = name
        self.kind = kind
        self.defaultText = unsetText
        self.unsetText = unsetText
        self.reloadable = reloadable
        self.hasEffect = hasEffect
        self.doc = doc
        self.store = store
        self.render = render
    }

    private init(_ other: Self, defaultText: String) {
        self.name = other.name
        self.kind = other.kind
        self.defaultText = defaultText
        self.unsetText = other.unsetText
        self.reloadable = other.reloadable
        self.hasEffect = other.hasEffect
        self.doc = other.doc
        self.store = other.store
        self.render = other.render
    }

    /// Parses `text` (already unquoted) and stores the value; throws naming the setting and what it allows.
    public func apply(_ text: String, to target: inout Target) throws(InvalidSettingValue) {
        try store(text, &target)
    }

    /// The value held by `target` as INI text (`5`, `0.5`, `1`, `session`, `a,b`), or the unset text.
    public func currentText(_ target: Target) -> String {
        render(target) ?? unsetText
    }

    /// This row with `defaultText` read from `defaults`, so the default lives only in the Swift type.
    func withDefault(from defaults: Target) -> Self {
        Self(self, defaultText: currentText(defaults))
    }
}

/// A `[pgbouncer]` setting: one row of `SettingsTable`.
public typealias SettingDefinition = ParameterDefinition<Settings>
