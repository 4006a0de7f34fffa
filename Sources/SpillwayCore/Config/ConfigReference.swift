/// Renders the settings tables as the Markdown reference in docs/configuration.md, so the docs are generated
/// from the same rows that parse the config. A test fails when the file and this output differ.
public enum ConfigReference {
    /// Marks the start of the generated part of docs/configuration.md.
    public static let beginMarker = "<!-- BEGIN GENERATED SETTINGS: edit the tables in Sources/SpillwayCore/Config -->"
    /// Marks the end of the generated part of docs/configuration.md.
    public static let endMarker = "<!-- END GENERATED SETTINGS -->"

    /// The generated Markdown between (not including) the markers.
    public static func markdown() -> String {
        let active = SettingsTable.all.filter(\.hasEffect)
        let refused = SettingsTable.all.filter { $0.support == .refusedUnlessDefault }
        let warned = SettingsTable.all.filter { $0.support == .ignoredWithWarning }
        var out = "\n\n### `[pgbouncer]` settings\n\n"
        out += "Also accepted as `[spillway]`. Names are case-insensitive. Every setting here is implemented.\n\n"
        out += settingsTable(active)
        out += "\n### PgBouncer settings refused unless at PgBouncer's default\n\n"
        out += "Spillway does not implement these yet. So that no file asks for something it does not get (TLS, "
        out += "another way to authenticate), any other value stops startup and reload with the file, line and "
        out += "key (exit 2). The default shown is PgBouncer's and loads; the description names any other value "
        out += "that loads because Spillway already behaves so.\n\n"
        out += settingsTable(refused)
        out += "\n### PgBouncer settings accepted with a warning\n\n"
        out += "These tune PgBouncer's own internals and mean nothing to Spillway: a line that sets one loads, "
        out += "with a warning naming file and line.\n\n"
        out += settingsTable(warned)
        out += "\n### `[databases]` parameters\n\n"
        out += "`alias = key=value key='quoted value' …`; the alias `*` matches any database not listed.\n\n"
        out += parameterTable(DatabaseConfig.parameters)
        out += "\n### `[users]` parameters\n\n"
        out += "`username = key=value …`.\n\n"
        out += parameterTable(UserConfig.parameters)
        out += "\n### `[applications]` parameters\n\n"
        out += "`application_name = key=value …`; a client that sets no `application_name` is known by its "
        out += "address (`10.0.0.7`). See docs/leak-guard.md.\n\n"
        out += parameterTable(ApplicationConfig.parameters)
        return out + "\n"
    }

    private static func settingsTable(_ rows: [SettingDefinition]) -> String {
        var out = "| Setting | Type | Default | Reloadable | Description |\n"
        out += "| --- | --- | --- | --- | --- |\n"
        for row in rows {
            out += "| `\(row.name)` | \(cell(type(row))) | \(code(row.defaultText)) | \(row.reloadable ? "yes" : "no") "
            out += "| \(cell(row.doc)) |\n"
        }
        return out
    }

    private static func parameterTable<Target>(_ rows: [ParameterDefinition<Target>]) -> String {
        var out = "| Parameter | Type | Default | Description |\n"
        out += "| --- | --- | --- | --- |\n"
        for row in rows {
            out += "| `\(row.name)` | \(cell(type(row))) | \(code(row.defaultText)) | \(cell(row.doc)) |\n"
        }
        return out
    }

    /// The type column: the kind for an implemented row, else what happens to a value.
    private static func type<Target>(_ row: ParameterDefinition<Target>) -> String {
        switch row.support {
        case .implemented: row.kind.description
        case .refusedUnlessDefault: "refused unless default"
        case .ignoredWithWarning: "ignored, with a warning"
        }
    }

    /// A default as inline code, or *unset*.
    private static func code(_ text: String) -> String {
        text.isEmpty ? "*unset*" : "`\(cell(text))`"
    }

    /// Text safe inside a table cell.
    private static func cell(_ text: String) -> String {
        String(text.flatMap { $0 == "|" ? ["\\", "|"] : [$0] })
    }
}
