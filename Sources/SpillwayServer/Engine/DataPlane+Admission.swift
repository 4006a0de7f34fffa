import SpillwayCore

/// Client admission on the engine, at login and logout only: max_db_client_connections,
/// max_user_client_connections, an application's max_client_connections, and near max_client_conn the
/// application holding the most connections refused first.
extension DataPlane {
    struct Admission {
        var applications = ApplicationBook()
        var counts = ClientCounts()
    }

    /// Admits a logged-in client of `database` as `user` from `application`, or says why not (53300): the
    /// refusal's message, and its detail or hint.
    func admit(
        database: DatabaseConfig, user: String, application: String, runtime: RuntimeConfig
    ) -> (message: String, detail: String?, hint: String?)? {
        let databaseLimit = database.maxDBClientConnections.flatMap { $0 > 0 ? $0 : nil }
            ?? runtime.settings.maxDBClientConnections
        let userLimit = runtime.config.users[user]?.maxUserClientConnections.flatMap { $0 > 0 ? $0 : nil }
            ?? runtime.settings.maxUserClientConnections
        let applicationLimit = runtime.applicationPolicies[application]?.maxClientConnections
        let total = clientConnections.used
        return admission.withLock { admission in
            if let refusal = admission.counts.admit(
                database: database.name, user: user, databaseLimit: databaseLimit, userLimit: userLimit)
            {
                return (refusal.message, refusal.detail, nil)
            }
            if let refusal = admission.applications.admit(
                application, total: total, limit: runtime.settings.maxClientConn, applicationLimit: applicationLimit)
            {
                admission.counts.left(database: database.name, user: user)
                return (refusal.message, nil,
                    "Close the application's idle connections, or raise max_client_conn or its "
                        + "max_client_connections in [applications].")
            }
            return nil
        }
    }

    /// An admitted client left.
    func admittedClientLeft(database: String, user: String, application: String) {
        admission.withLock { admission in
            admission.counts.left(database: database, user: user)
            admission.applications.left(application)
        }
    }

    /// `SET application_name`: the client counts against its new application from now on.
    func applicationChanged(from old: String, to new: String) {
        admission.withLock { $0.applications.moved(from: old, to: new) }
    }
}
