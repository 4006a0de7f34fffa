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
        let text = INIReader.unquote(value)
        do {
            try definition.apply(text, to: &config.settings)
        } catch {
            throw ConfigError(file: line.file, line: line.number, key: definition.name, message: error.message)
        }
        switch definition.support {
        case .implemented:
            break
        case .refusedUnlessDefault:
            guard definition.isHarmless(text) else {
                throw ConfigError(
                    file: line.file, line: line.number, key: definition.name,
                    message: Self.refusal(definition.name, text, default: definition.defaultText))
            }
        case .ignoredWithWarning:
            warn(line, key: definition.name, "\(definition.name) has no effect in spillway; ignored (\(definition.doc))")
        }
    }

    /// Why a value of a setting Spillway does not implement stops the load, and what to do instead.
    static func refusal(_ name: String, _ value: String, default defaultText: String) -> String {
        let reason: String
        if name.contains("tls") {
            reason = "spillway does not speak TLS yet, and refuses to start rather than ignore a TLS setting"
        } else if name.hasPrefix("auth_") {
            reason = "spillway cannot authenticate that way yet, and refuses to start rather than ignore it"
        } else {
            reason = "spillway does not implement it yet, and refuses to start rather than ignore it"
        }
        let instead = defaultText.isEmpty ? "remove the line" : "remove the line or set PgBouncer's default '\(defaultText)'"
        return "\(name) = '\(value)' is not supported yet: \(reason); \(instead)"
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
            if parameter.support == .refusedUnlessDefault, !parameter.isHarmless(pair.value) {
                throw fail(Self.refusal(pair.key, pair.value, default: parameter.defaultText))
            }
        }
    }

    private mutating func warn(_ line: INIReader.Line, key: String?, _ message: String) {
        config.warnings.append(ConfigDiagnostic(file: line.file, line: line.number, key: key, message: message))
    }
}
