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
        let accepted = SettingsTable.all.filter { !$0.hasEffect }
        var out = "\n\n### `[pgbouncer]` settings\n\n"
        out += "Also accepted as `[spillway]`. Names are case-insensitive.\n\n"
        out += settingsTable(active)
        out += "\n### Accepted for PgBouncer compatibility, no effect yet\n\n"
        out += "These are stored as written (see `Settings.passthrough`) so an existing pgbouncer.ini starts; "
        out += "their values are not checked. Defaults are PgBouncer's.\n\n"
        out += settingsTable(accepted)
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
            let type = row.hasEffect ? row.kind.description : "accepted, no effect yet"
            out += "| `\(row.name)` | \(cell(type)) | \(code(row.defaultText)) | \(row.reloadable ? "yes" : "no") "
            out += "| \(cell(row.doc)) |\n"
        }
        return out
    }

    private static func parameterTable<Target>(_ rows: [ParameterDefinition<Target>]) -> String {
        var out = "| Parameter | Type | Default | Description |\n"
        out += "| --- | --- | --- | --- |\n"
        for row in rows {
            let type = row.hasEffect ? row.kind.description : "accepted, no effect yet"
            out += "| `\(row.name)` | \(cell(type)) | \(code(row.defaultText)) | \(cell(row.doc)) |\n"
        }
        return out
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
