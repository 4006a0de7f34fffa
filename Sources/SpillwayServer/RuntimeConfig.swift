import NIOConcurrencyHelpers
import PostgresWire
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
    /// The `[applications]` section as the pools use it.
    let applicationPolicies: [String: ApplicationPolicy]
    /// SCRAM secrets of plain auth_file passwords, derived at a role's first SCRAM login and kept until reload
    /// (PostgreSQL stores one secret per role too): PBKDF2 at every login made a connection storm cost ~1 ms
    /// of CPU per connection.
    private let plainSecrets = NIOLockedValueBox<[String: SCRAMSecret]>([:])

    init(config: Config, userList: UserList) {
        self.config = config
        self.userList = userList
        self.settings = config.settings
        self.applicationPolicies = config.applicationPolicies
        self.passwords = userList.passwords.mapValues(StoredPassword.init)
    }

    /// max_db_connections for a database alias: the database's own value, else the global one (0 = none).
    func databaseMaxConnections(_ alias: String) -> Int {
        config.database(named: alias).map { config.maxDBConnections(database: $0) } ?? config.settings.maxDBConnections
    }

    /// The limits of the pool for `database` and `user`, from the settings.
    func limits(database: DatabaseConfig, user: String) -> PoolStateMachine.Limits {
        // A break-glass user's pool is its reserve: small, never queued behind applications.
        let breakGlass = settings.breakGlassUsers.contains(user)
        return PoolStateMachine.Limits(
            poolSize: breakGlass ? settings.breakGlassPoolSize : config.poolSize(database: database, user: user),
            minPoolSize: database.minPoolSize ?? settings.minPoolSize,
            checkDelay: settings.serverCheckQuery.isEmpty ? nil : .seconds(settings.serverCheckDelay),
            idleTimeout: settings.serverIdleTimeout > 0 ? .seconds(settings.serverIdleTimeout) : nil,
            lifetime: settings.serverLifetime > 0 ? .seconds(settings.serverLifetime) : nil,
            loginRetry: .seconds(settings.serverLoginRetry),
            queryWaitTimeout: settings.queryWaitTimeout > 0 ? .seconds(settings.queryWaitTimeout) : nil,
            reservePoolSize: breakGlass ? 0 : config.reservePoolSize(database: database),
            reserveTimeout: settings.reservePoolTimeout > 0 ? .seconds(settings.reservePoolTimeout) : nil,
            maxIdleTransactionServers: settings.maxIdleTransactionServers,
            reclaimAfter: .milliseconds(Int64(settings.idleTransactionReclaimAfter * 1000)),
            applications: applicationPolicies)
    }

    /// The SCRAM secret for `user`'s plain password, derived once (with a random salt) and then kept.
    func scramSecret(user: String, password: String) -> SCRAMSecret {
        if let known = plainSecrets.withLockedValue({ $0[user] }) { return known }
        let secret = SCRAMSecret(password: password, salt: SecureRandom.bytes(16))
        return plainSecrets.withLockedValue { secrets in
            if let raced = secrets[user] { return raced }  // another login derived it meanwhile: one salt per role
            secrets[user] = secret
            return secret
        }
    }

    /// The stored password for a role in auth_file.
    func storedPassword(user: String) -> StoredPassword? {
        passwords[user]
    }
}
