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
    /// Whether Spillway acts on it, refuses it, or accepts it with a warning.
    public let support: ParameterSupport
    /// Values besides the default that a refused row still accepts, because Spillway already behaves so
    /// (`max_prepared_statements = 0`), lowercase.
    public let alsoAccepted: [String]
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
        support: ParameterSupport = .implemented,
        alsoAccepted: [String] = [],
        doc: String,
        store: @escaping @Sendable (String, inout Target) throws(InvalidSettingValue) -> Void,
        render: @escaping @Sendable (Target) -> String?
    ) {
        self.name = name
        self.kind = kind
        self.defaultText = unsetText
        self.unsetText = unsetText
        self.reloadable = reloadable
        self.support = support
        self.alsoAccepted = alsoAccepted
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
        self.support = other.support
        self.alsoAccepted = other.alsoAccepted
        self.doc = other.doc
        self.store = other.store
        self.render = other.render
    }

    /// Parses `text` (already unquoted) and stores the value; throws naming the setting and what it allows.
    public func apply(_ text: String, to target: inout Target) throws(InvalidSettingValue) {
        try store(text, &target)
    }

    /// True when Spillway acts on the value.
    public var hasEffect: Bool { support == .implemented }

    /// For a refused row: whether `text` asks for nothing Spillway does not do (PgBouncer's default, or a
    /// value in `alsoAccepted`). Numbers and booleans compare by value: `0`, `off` and `false` are one.
    public func isHarmless(_ text: String) -> Bool {
        func normal(_ value: String) -> String {
            var word = ConfigValue.trimmed(value).lowercased()
            switch word {
            case "no", "off", "false": word = "0"
            case "yes", "on", "true": word = "1"
            default: break
            }
            return Double(word).map { String($0) } ?? word
        }
        let value = normal(text)
        return value == normal(defaultText) || alsoAccepted.map(normal).contains(value)
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

/// What Spillway does with a parameter it reads.
public enum ParameterSupport: Sendable, Equatable {
    /// Implemented: the value has its documented effect.
    case implemented
    /// Not implemented: any value other than PgBouncer's default stops startup and reload (file, line, key,
    /// "not supported yet"), so a file never asks for something (TLS, another auth method) it does not get.
    case refusedUnlessDefault
    /// Tunes PgBouncer's internals and means nothing to Spillway: accepted, with one warning per load.
    case ignoredWithWarning
}

/// A `[pgbouncer]` setting: one row of `SettingsTable`.
public typealias SettingDefinition = ParameterDefinition<Settings>
