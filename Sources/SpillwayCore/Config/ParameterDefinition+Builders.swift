/// Row builders for the settings tables: each reads like `.integer("listen_port", \.listenPort, 0...65535, doc)`.
extension ParameterDefinition {
    /// A row whose value is parsed by `parse`, stored at `keyPath` and printed by `format`.
    static func custom<Value>(
        _ name: String,
        _ keyPath: WritableKeyPath<Target, Value> & Sendable,
        kind: ParameterKind,
        unsetText: String = "",
        reloadable: Bool = true,
        _ doc: String,
        parse: @escaping @Sendable (String) throws(InvalidSettingValue) -> Value,
        format: @escaping @Sendable (Value) -> String?
    ) -> Self {
        Self(
            name: name, kind: kind, unsetText: unsetText, reloadable: reloadable, doc: doc,
            store: { (text: String, target: inout Target) throws(InvalidSettingValue) in
                target[keyPath: keyPath] = try parse(text)
            },
            render: { format($0[keyPath: keyPath]) })
    }

    /// A whole number within `range`.
    static func integer(
        _ name: String, _ keyPath: WritableKeyPath<Target, Int> & Sendable, _ range: ClosedRange<Int>,
        reloadable: Bool = true, _ doc: String
    ) -> Self {
        custom(
            name, keyPath, kind: .integer(range), reloadable: reloadable, doc,
            parse: { (text: String) throws(InvalidSettingValue) in
                try ConfigValue.integer(text, name: name, range: range)
            },
            format: { String($0) })
    }

    /// An optional whole number within `range`; nil when not written.
    static func integer(
        _ name: String, _ keyPath: WritableKeyPath<Target, Int?> & Sendable, _ range: ClosedRange<Int>,
        reloadable: Bool = true, _ doc: String
    ) -> Self {
        custom(
            name, keyPath, kind: .integer(range), reloadable: reloadable, doc,
            parse: { (text: String) throws(InvalidSettingValue) in
                try ConfigValue.integer(text, name: name, range: range)
            },
            format: { $0.map { String($0) } })
    }

    /// A whole number within `range`, or `auto` for nil.
    static func integerOrAuto(
        _ name: String, _ keyPath: WritableKeyPath<Target, Int?> & Sendable, _ range: ClosedRange<Int>,
        reloadable: Bool = true, _ doc: String
    ) -> Self {
        custom(
            name, keyPath, kind: .integerOrAuto(range), unsetText: "auto", reloadable: reloadable, doc,
            parse: { (text: String) throws(InvalidSettingValue) in
                try ConfigValue.integerOrAuto(text, name: name, range: range)
            },
            format: { $0.map { String($0) } })
    }

    /// A duration in seconds.
    static func seconds(
        _ name: String, _ keyPath: WritableKeyPath<Target, Double> & Sendable,
        reloadable: Bool = true, _ doc: String
    ) -> Self {
        custom(
            name, keyPath, kind: .seconds, reloadable: reloadable, doc,
            parse: { (text: String) throws(InvalidSettingValue) in try ConfigValue.seconds(text, name: name) },
            format: { ConfigValue.format(seconds: $0) })
    }

    /// A boolean.
    static func boolean(
        _ name: String, _ keyPath: WritableKeyPath<Target, Bool> & Sendable,
        reloadable: Bool = true, _ doc: String
    ) -> Self {
        custom(
            name, keyPath, kind: .boolean, reloadable: reloadable, doc,
            parse: { (text: String) throws(InvalidSettingValue) in try ConfigValue.boolean(text, name: name) },
            format: { ConfigValue.format(boolean: $0) })
    }

    /// Text stored as written.
    static func string(
        _ name: String, _ keyPath: WritableKeyPath<Target, String> & Sendable,
        reloadable: Bool = true, _ doc: String
    ) -> Self {
        custom(name, keyPath, kind: .string, reloadable: reloadable, doc, parse: { $0 }, format: { $0 })
    }

    /// Optional text; with `emptyIsUnset`, an empty value stores nil.
    static func string(
        _ name: String, _ keyPath: WritableKeyPath<Target, String?> & Sendable,
        emptyIsUnset: Bool = false, reloadable: Bool = true, _ doc: String
    ) -> Self {
        custom(
            name, keyPath, kind: .string, reloadable: reloadable, doc,
            parse: { emptyIsUnset && $0.isEmpty ? nil : $0 }, format: { $0 })
    }

    /// A comma-separated list.
    static func list(
        _ name: String, _ keyPath: WritableKeyPath<Target, [String]> & Sendable,
        reloadable: Bool = true, _ doc: String
    ) -> Self {
        custom(
            name, keyPath, kind: .list, reloadable: reloadable, doc,
            parse: { ConfigValue.list($0) }, format: { ConfigValue.format(list: $0) })
    }

    /// One of an enum's raw values.
    static func choice<Choice: RawRepresentable & CaseIterable & Sendable>(
        _ name: String, _ keyPath: WritableKeyPath<Target, Choice> & Sendable,
        reloadable: Bool = true, _ doc: String
    ) -> Self where Choice.RawValue == String {
        custom(
            name, keyPath, kind: .choice(Choice.allCases.map(\.rawValue)), reloadable: reloadable, doc,
            parse: { (text: String) throws(InvalidSettingValue) in try ConfigValue.choice(text, name: name) },
            format: { $0.rawValue })
    }

    /// One of an enum's raw values, or nil when not written.
    static func choice<Choice: RawRepresentable & CaseIterable & Sendable>(
        _ name: String, _ keyPath: WritableKeyPath<Target, Choice?> & Sendable,
        reloadable: Bool = true, _ doc: String
    ) -> Self where Choice.RawValue == String {
        custom(
            name, keyPath, kind: .choice(Choice.allCases.map(\.rawValue)), reloadable: reloadable, doc,
            parse: { (text: String) throws(InvalidSettingValue) -> Choice? in
                try ConfigValue.choice(text, name: name)
            },
            format: { $0?.rawValue })
    }

    /// A PgBouncer setting Spillway does not implement: refused unless it holds `default` (PgBouncer's) or one
    /// of `alsoAccepted`; stored as written under `name` in `passthrough`.
    static func unsupported(
        _ name: String, _ keyPath: WritableKeyPath<Target, [String: String]> & Sendable,
        default defaultText: String = "", alsoAccepted: [String] = [], reloadable: Bool = true, _ doc: String
    ) -> Self {
        passthrough(
            name, keyPath, support: .refusedUnlessDefault, default: defaultText, alsoAccepted: alsoAccepted,
            reloadable: reloadable, doc)
    }

    /// A PgBouncer setting that tunes PgBouncer's own internals: accepted with a warning, no effect.
    static func ignored(
        _ name: String, _ keyPath: WritableKeyPath<Target, [String: String]> & Sendable,
        default defaultText: String = "", reloadable: Bool = true, _ doc: String
    ) -> Self {
        passthrough(name, keyPath, support: .ignoredWithWarning, default: defaultText, reloadable: reloadable, doc)
    }

    private static func passthrough(
        _ name: String, _ keyPath: WritableKeyPath<Target, [String: String]> & Sendable, support: ParameterSupport,
        default defaultText: String, alsoAccepted: [String] = [], reloadable: Bool, _ doc: String
    ) -> Self {
        Self(
            name: name, kind: .text, unsetText: defaultText, reloadable: reloadable, support: support,
            alsoAccepted: alsoAccepted, doc: doc,
            store: { text, target in target[keyPath: keyPath][name] = text },
            render: { $0[keyPath: keyPath][name] })
    }
}
