/// Reads INI lines into a `Config`, one line at a time, remembering the current section.
struct ConfigParser {
    /// The section the next entry belongs to.
    enum Section {
        /// `[pgbouncer]` or `[spillway]`: settings from `SettingsTable`.
        case settings
        /// `[databases]`: alias = connection string.
        case databases
        /// `[users]`: user name = connection string.
        case users
        /// `[applications]`: application name = connection string.
        case applications
        /// A PgBouncer section Spillway does not support yet (`[peers]`); entries are skipped.
        case ignored
    }

    /// The database alias PgBouncer keeps for its admin console.
    static let reservedDatabase = "pgbouncer"

    /// What has been read so far.
    private(set) var config = Config()
    /// nil until the first section header.
    private var section: Section?

    /// Applies one line; throws for errors, appends warnings to `config.warnings`.
    mutating func consume(_ line: INIReader.Line) throws(ConfigError) {
        switch line.content {
        case .section(let name):
            try enter(name, line)
        case .include:
            throw ConfigError(
                file: line.file, line: line.number,
                message: "%include needs a file to resolve against; load the config with Config.load(path:)")
        case .entry(let key, let value):
            switch section {
            case nil:
                throw ConfigError(
                    file: line.file, line: line.number, key: key,
                    message: "'\(key)' is outside any section; put settings under [pgbouncer]")
            case .settings: try setting(key, value, line)
            case .databases: try database(key, value, line)
            case .users: try user(key, value, line)
            case .applications: try application(key, value, line)
            case .ignored: break
            }
        }
    }

    private mutating func enter(_ name: String, _ line: INIReader.Line) throws(ConfigError) {
        switch name.lowercased() {
        case "pgbouncer", "spillway": section = .settings
        case "databases": section = .databases
        case "users": section = .users
        case "applications": section = .applications
        case "peers":
            section = .ignored
            warn(line, key: nil, "section [\(name)] is not supported yet; its lines are ignored")
        default:
            throw ConfigError(
                file: line.file, line: line.number,
                message: "unknown section [\(name)]; expected [databases], [users], [applications] or [pgbouncer]")
        }
    }

    private mutating func setting(_ key: String, _ value: String, _ line: INIReader.Line) throws(ConfigError) {
        guard let definition = SettingsTable.definition(key) else {
            warn(line, key: key, "unknown setting '\(key)' ignored")
            return
        }
        do {
            try definition.apply(INIReader.unquote(value), to: &config.settings)
        } catch {
            throw ConfigError(file: line.file, line: line.number, key: definition.name, message: error.message)
        }
    }

    private mutating func database(_ alias: String, _ value: String, _ line: INIReader.Line) throws(ConfigError) {
        guard alias != Self.reservedDatabase else {
            throw ConfigError(
                file: line.file, line: line.number, key: alias,
                message: "database name '\(alias)' is reserved for the admin console")
        }
        var database = DatabaseConfig(name: alias)
        try apply(value, to: &database, DatabaseConfig.parameters, context: "database '\(alias)'", line, key: alias)
        if config.databases[alias] != nil {
            warn(line, key: alias, "database '\(alias)' is defined again; this line replaces the earlier one")
        }
        config.databases[alias] = database
    }

    private mutating func user(_ name: String, _ value: String, _ line: INIReader.Line) throws(ConfigError) {
        var user = UserConfig(name: name)
        try apply(value, to: &user, UserConfig.parameters, context: "user '\(name)'", line, key: name)
        if config.users[name] != nil {
            warn(line, key: name, "user '\(name)' is defined again; this line replaces the earlier one")
        }
        config.users[name] = user
    }

    private mutating func application(_ name: String, _ value: String, _ line: INIReader.Line) throws(ConfigError) {
        var application = ApplicationConfig(name: name)
        try apply(
            value, to: &application, ApplicationConfig.parameters, context: "application '\(name)'", line, key: name)
        if config.applications[name] != nil {
            warn(line, key: name, "application '\(name)' is defined again; this line replaces the earlier one")
        }
        config.applications[name] = application
    }

    /// Applies each `key=value` of a connection string through the section's parameter table.
    private func apply<Target>(
        _ connectionString: String,
        to target: inout Target,
        _ parameters: [ParameterDefinition<Target>],
        context: String,
        _ line: INIReader.Line,
        key: String
    ) throws(ConfigError) {
        func fail(_ message: String) -> ConfigError {
            ConfigError(file: line.file, line: line.number, key: key, message: "\(context): \(message)")
        }
        let pairs: [(key: String, value: String)]
        do {
            pairs = try ConnectionString.parse(connectionString)
        } catch {
            throw fail(error.message)
        }
        for pair in pairs {
            guard let parameter = parameters.first(where: { $0.name == pair.key }) else {
                let allowed = parameters.map(\.name).joined(separator: ", ")
                throw fail("unknown parameter '\(pair.key)'; expected one of \(allowed)")
            }
            do {
                try parameter.apply(pair.value, to: &target)
            } catch {
                throw fail(error.message)
            }
        }
    }

    private mutating func warn(_ line: INIReader.Line, key: String?, _ message: String) {
        config.warnings.append(ConfigDiagnostic(file: line.file, line: line.number, key: key, message: message))
    }
}
