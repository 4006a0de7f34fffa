import SpillwayCore

/// The configuration a running Spillway works from: the INI file and the auth_file it names.
///
/// A shared immutable object: every connection points at the one it started with (8 bytes each, where a copy
/// of the settings would cost every idle client hundreds of bytes). A reload makes a new one.
final class RuntimeConfig: Sendable {
    let config: Config
    let userList: UserList
    let settings: Settings
    /// auth_file entries classified once, not at every login (a SCRAM secret is base64 to decode).
    private let passwords: [String: StoredPassword]

    init(config: Config, userList: UserList) {
        self.config = config
        self.userList = userList
        self.settings = config.settings
        self.passwords = userList.passwords.mapValues(StoredPassword.init)
    }

    /// max_db_connections for a database alias: the database's own value, else the global one (0 = none).
    func databaseMaxConnections(_ alias: String) -> Int {
        config.database(named: alias).map { config.maxDBConnections(database: $0) } ?? config.settings.maxDBConnections
    }

    /// The stored password for a role in auth_file.
    func storedPassword(user: String) -> StoredPassword? {
        passwords[user]
    }
}
