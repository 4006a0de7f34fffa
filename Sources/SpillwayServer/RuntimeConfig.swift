import SpillwayCore

/// The configuration a running Spillway works from: the INI file and the auth_file it names.
struct RuntimeConfig: Sendable {
    var config: Config
    var userList: UserList

    var settings: Settings { config.settings }

    /// max_db_connections for a database alias: the database's own value, else the global one (0 = none).
    func databaseMaxConnections(_ alias: String) -> Int {
        config.database(named: alias).map { config.maxDBConnections(database: $0) } ?? config.settings.maxDBConnections
    }

    /// The stored password for a role: auth_file first, then a `password=` on the database line.
    func storedPassword(user: String) -> StoredPassword? {
        userList.secret(for: user)
    }
}
