/// The drill's objects in the target database — the table `drill_items` and the roles `drill_app` (the job and
/// the API, one user) and `drill_oncall` (the on-call engineer, not a superuser) — managed over one superuser
/// session that lives through the whole drill.
struct DrillDatabase: Sendable {
    /// The user of both the leaky job and the API.
    static let appUser = "drill_app"
    /// The on-call engineer.
    static let oncallUser = "drill_oncall"

    /// The superuser session: setup, samples, cleanup between runs.
    let monitor: WireClient
    /// Where the job, the API and the engineer connect directly.
    let target: WireClient.Configuration
    /// drill_app's password.
    let appPassword: String
    /// drill_oncall's password.
    let oncallPassword: String

    /// Ends sessions of an earlier drill, (re)creates the roles with fresh passwords and fills drill_items with
    /// `rows` rows. `md5Passwords`: store the passwords as md5 (cheap logins: the throwaway cluster asks md5);
    /// false keeps the server's password_encryption, so the roles log in whatever pg_hba.conf of a server given
    /// with --dsn asks for.
    static func prepare(monitor: WireClient, rows: Int, md5Passwords: Bool) async throws -> DrillDatabase {
        let database = DrillDatabase(
            monitor: monitor, target: monitor.configuration, appPassword: RandomPassword.make(),
            oncallPassword: RandomPassword.make())
        try await database.endDrillSessions()
        let setup = """
            DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '\(appUser)') THEN
                    CREATE ROLE \(appUser);
                END IF;
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '\(oncallUser)') THEN
                    CREATE ROLE \(oncallUser);
                END IF;
            END $$;
            \(md5Passwords ? "SET password_encryption = 'md5';" : "")
            ALTER ROLE \(appUser) LOGIN NOSUPERUSER PASSWORD '\(database.appPassword)';
            ALTER ROLE \(oncallUser) LOGIN NOSUPERUSER PASSWORD '\(database.oncallPassword)';
            \(md5Passwords ? "RESET password_encryption;" : "")
            DROP TABLE IF EXISTS drill_items;
            CREATE TABLE drill_items (id int PRIMARY KEY, payload text, touched int DEFAULT 0);
            INSERT INTO drill_items (id, payload) SELECT g, md5(g::text) FROM generate_series(1, \(max(rows, 1))) g;
            GRANT SELECT, UPDATE ON drill_items TO \(appUser);
            ANALYZE drill_items;
            """
        do {
            try await monitor.queries(setup, timeout: .seconds(120))
        } catch {
            throw SetupError("cannot create the drill's roles and table in \(monitor.configuration.database): \(error)")
        }
        return database
    }

    /// How the job and the API log in directly.
    func appConfiguration(applicationName: String?) -> WireClient.Configuration {
        var configuration = target
        configuration.user = Self.appUser
        configuration.password = appPassword
        configuration.applicationName = applicationName
        return configuration
    }

    /// How the on-call engineer logs in directly.
    func oncallConfiguration() -> WireClient.Configuration {
        var configuration = target
        configuration.user = Self.oncallUser
        configuration.password = oncallPassword
        configuration.applicationName = "psql"
        return configuration
    }

    /// `max_connections` and `superuser_reserved_connections` of the server, as it reports them.
    func connectionBudget() async throws -> (maxConnections: String, reserved: String) {
        let maxConnections = try await monitor.query("SHOW max_connections", timeout: .seconds(10)).scalar ?? "?"
        let reserved =
            try await monitor.query("SHOW superuser_reserved_connections", timeout: .seconds(10)).scalar ?? "?"
        return (maxConnections, reserved)
    }

    /// Terminates every session of the drill's roles and waits (up to 30 s) until PostgreSQL has none left, then
    /// resets the rows the job touched.
    func endDrillSessions() async throws {
        let roles = "('\(Self.appUser)', '\(Self.oncallUser)')"
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let left = try await monitor.query(
                """
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE usename IN \(roles) AND pid <> pg_backend_pid()
                """, timeout: .seconds(10)
            ).scalar
            if left == "0" {
                break
            }
            guard ContinuousClock.now < deadline else {
                throw SetupError("sessions of \(Self.appUser) are still there 30 s after pg_terminate_backend")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let tableExists = try await monitor.query(
            "SELECT to_regclass('drill_items') IS NOT NULL", timeout: .seconds(10))
        if tableExists.scalar == "t" {
            try await monitor.query("UPDATE drill_items SET touched = 0 WHERE touched <> 0", timeout: .seconds(60))
        }
    }
}
