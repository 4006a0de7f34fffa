import Testing

@testable import SpillwayCore

extension Config {
    /// Parses `text` as spillway.ini, recording an issue on an error.
    static func parsedOrRecorded(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> Config? {
        do {
            return try Config.parse(text, file: "spillway.ini")
        } catch {
            Issue.record("unexpected error: \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// The error `text` is rejected with as spillway.ini, or nil if it parses.
    static func parseError(_ text: String) -> ConfigError? {
        do {
            _ = try Config.parse(text, file: "spillway.ini")
            return nil
        } catch {
            return error
        }
    }
}

@Suite struct ConfigParseTests {
    static let realistic = """
        ;; PgBouncer for the orders service
        [databases]
        orders = host=10.0.3.5 port=5433 dbname=orders_prod pool_size=30 pool_mode=transaction
        reports = host=10.0.3.6 dbname=reports user=reporter password='s3cr''et x' \
        connect_query='SET search_path = reports, public' application_name=reports-pool max_db_connections=15
        # everything else goes to the primary
        * = host=10.0.3.5 max_db_client_connections=200

        [users]
        nightly = pool_mode=transaction pool_size=5 max_user_connections=10

        [pgbouncer]
        listen_addr = 0.0.0.0, ::1
        listen_port = 6543
        unix_socket_dir = /var/run/postgresql
        auth_type = scram-sha-256
        auth_file = /etc/pgbouncer/userlist.txt
        admin_users = postgres, admin
        stats_users = stats
        pool_mode = session
        default_pool_size = 25
        min_pool_size = 2
        reserve_pool_size = 5
        reserve_pool_timeout = 3
        max_client_conn = 500
        max_db_connections = 80
        max_user_connections = 50
        server_reset_query = DISCARD ALL
        server_reset_query_always = 0
        server_check_query = select 1
        server_check_delay = 10
        ignore_startup_parameters = extra_float_digits, search_path
        max_packet_size = 1048576
        query_wait_timeout = 30
        server_connect_timeout = 5
        server_login_retry = 2.5
        server_idle_timeout = 300
        server_lifetime = 1800
        client_login_timeout = 30
        idle_transaction_timeout = 60
        query_timeout = 0
        client_idle_timeout = 0
        cancel_wait_timeout = 10
        application_name_add_host = 1
        log_connections = 0
        log_disconnections = yes
        log_pooler_errors = on
        verbose = 1
        so_reuseport = 1
        tcp_keepalive = 1
        logfile = /var/log/pgbouncer/pgbouncer.log
        pidfile = /var/run/pgbouncer/pgbouncer.pid
        stats_period = 60
        server_tls_sslmode = prefer
        max_prepared_statements = 0
        """

    /// A production-style pgbouncer.ini parses into exactly the values it states, with no warnings.
    @Test func realisticPgBouncerIniParsesIntoExactValues() throws {
        let config = try Config.parse(Self.realistic, file: "pgbouncer.ini")

        var settings = Settings()
        settings.listenAddr = ["0.0.0.0", "::1"]
        settings.listenPort = 6543
        settings.unixSocketDir = "/var/run/postgresql"
        settings.authType = .scramSHA256
        settings.authFile = "/etc/pgbouncer/userlist.txt"
        settings.adminUsers = ["postgres", "admin"]
        settings.statsUsers = ["stats"]
        settings.poolMode = .session
        settings.defaultPoolSize = 25
        settings.minPoolSize = 2
        settings.reservePoolSize = 5
        settings.reservePoolTimeout = 3
        settings.maxClientConn = 500
        settings.maxDBConnections = 80
        settings.maxUserConnections = 50
        settings.serverResetQuery = "DISCARD ALL"
        settings.serverResetQueryAlways = false
        settings.serverCheckQuery = "select 1"
        settings.serverCheckDelay = 10
        settings.ignoreStartupParameters = ["extra_float_digits", "search_path"]
        settings.maxPacketSize = 1_048_576
        settings.queryWaitTimeout = 30
        settings.serverConnectTimeout = 5
        settings.serverLoginRetry = 2.5
        settings.serverIdleTimeout = 300
        settings.serverLifetime = 1800
        settings.clientLoginTimeout = 30
        settings.idleTransactionTimeout = 60
        settings.queryTimeout = 0
        settings.clientIdleTimeout = 0
        settings.cancelWaitTimeout = 10
        settings.applicationNameAddHost = true
        settings.logConnections = false
        settings.logDisconnections = true
        settings.logPoolerErrors = true
        settings.verbose = 1
        settings.soReuseport = true
        settings.tcpKeepalive = true
        settings.logfile = "/var/log/pgbouncer/pgbouncer.log"
        settings.pidfile = "/var/run/pgbouncer/pgbouncer.pid"
        settings.passthrough = ["server_tls_sslmode": "prefer", "max_prepared_statements": "0"]
        #expect(config.settings == settings)

        #expect(
            config.databases == [
                "orders": DatabaseConfig(
                    name: "orders", host: "10.0.3.5", port: 5433, dbname: "orders_prod", poolSize: 30,
                    poolMode: .transaction),
                "reports": DatabaseConfig(
                    name: "reports", host: "10.0.3.6", dbname: "reports", user: "reporter", password: "s3cr'et x",
                    maxDBConnections: 15, connectQuery: "SET search_path = reports, public",
                    applicationName: "reports-pool"),
                "*": DatabaseConfig(
                    name: "*", host: "10.0.3.5", maxDBClientConnections: 200),
            ])
        #expect(
            config.users == [
                "nightly": UserConfig(name: "nightly", poolMode: .transaction, poolSize: 5, maxUserConnections: 10)
            ])
        #expect(config.warnings == [])
        #expect(config.path == nil)
    }

    /// An empty file is all defaults: loopback, port 6432, md5, session pooling.
    @Test func emptyFileGivesDefaults() throws {
        let config = try Config.parse("", file: "spillway.ini")
        #expect(config == Config())
        #expect(config.settings.listenAddr == ["127.0.0.1"])
        #expect(config.settings.listenPort == 6432)
        #expect(config.settings.authType == .md5)
        #expect(config.settings.threads == nil)
        // The leak guard's bounds are on by default.
        #expect(config.settings.queryWaitTimeout == 30)
        #expect(config.settings.idleTransactionTimeout == 60)
        #expect(config.settings.clientLoginTimeout == 15)
        #expect(config.settings.serverConnectTimeout == 5)
        #expect(config.settings.serverIdleTimeout == 600)
        #expect(config.settings.serverLifetime == 3600)
        #expect(config.settings.cancelWaitTimeout == 10)
        #expect(config.settings.reservePoolSize == 5)
        #expect(config.settings.tcpKeepalive && config.settings.tcpKeepidle > 0 && config.settings.tcpUserTimeout > 0)
    }

    /// An unknown setting is a warning naming file, line and key; the rest of the file still applies.
    @Test func unknownSettingIsWarningWithLineNumber() throws {
        let config = try Config.parse(
            """
            [pgbouncer]
            listen_port = 7000

            frobnicate = 3
            """, file: "spillway.ini")
        #expect(config.settings.listenPort == 7000)
        #expect(
            config.warnings == [
                ConfigDiagnostic(
                    file: "spillway.ini", line: 4, key: "frobnicate", message: "unknown setting 'frobnicate' ignored")
            ])
        #expect(config.warnings.map(\.description) == ["spillway.ini:4: unknown setting 'frobnicate' ignored"])
    }

    /// `[peers]` and redefined databases or users load with warnings instead of failing.
    @Test func peersSectionAndRedefinitionsAreWarnings() throws {
        let config = try Config.parse(
            """
            [peers]
            1 = host=10.0.0.1
            [databases]
            orders = host=a
            orders = host=b
            [users]
            bob = pool_size=1
            bob = pool_size=2
            """, file: "spillway.ini")
        #expect(config.databases["orders"]?.host == "b")
        #expect(config.users["bob"]?.poolSize == 2)
        #expect(
            config.warnings.map(\.description) == [
                "spillway.ini:1: section [peers] is not supported yet; its lines are ignored",
                "spillway.ini:5: database 'orders' is defined again; this line replaces the earlier one",
                "spillway.ini:8: user 'bob' is defined again; this line replaces the earlier one",
            ])
    }

    /// Keys and section names are case-insensitive, `[spillway]` means `[pgbouncer]`, values may be quoted.
    @Test func keysCaseInsensitiveSpillwaySectionAndQuotedValues() throws {
        let config = Config.parsedOrRecorded(
            """
            [SPILLWAY]
            Listen_Port = 7001
            server_reset_query = "DISCARD ALL; RESET ROLE"
            server_check_query = 'SELECT 2'
            unix_socket_dir = ""
            POOL_MODE = Transaction
            AUTH_TYPE = SCRAM-SHA-256
            """)
        #expect(config?.settings.listenPort == 7001)
        #expect(config?.settings.serverResetQuery == "DISCARD ALL; RESET ROLE")
        #expect(config?.settings.serverCheckQuery == "SELECT 2")
        #expect(config?.settings.unixSocketDir == "")
        #expect(config?.settings.poolMode == .transaction)
        #expect(config?.settings.authType == .scramSHA256)
    }

    /// Comment lines start with `;` or `#` (after spaces); `;` inside a value is part of it; CRLF works.
    @Test func commentsAndLineEndings() throws {
        let config = Config.parsedOrRecorded(
            "[pgbouncer]\r\n  ; a comment\r\n# another\r\nserver_reset_query = DISCARD ALL; x\r\n")
        #expect(config?.settings.serverResetQuery == "DISCARD ALL; x")
        #expect(config?.warnings == [])
    }

    /// Every boolean spelling PgBouncer users write is accepted.
    @Test(arguments: [
        ("1", true), ("yes", true), ("on", true), ("true", true), ("TRUE", true), ("Yes", true),
        ("0", false), ("no", false), ("off", false), ("false", false), ("OFF", false),
    ])
    func booleanSpellings(text: String, value: Bool) throws {
        let config = Config.parsedOrRecorded("[pgbouncer]\nso_reuseport = \(text)")
        #expect(config?.settings.soReuseport == value)
    }

    /// Durations are seconds, fractional allowed, with optional ms, s, min, h or d units.
    @Test(arguments: [
        ("120", 120.0), ("0.5", 0.5), ("500ms", 0.5), ("5s", 5.0), ("5 s", 5.0), ("2min", 120.0), ("1h", 3600.0),
        ("1d", 86400.0), ("0", 0.0), ("1.5h", 5400.0),
    ])
    func durationSpellings(text: String, seconds: Double) throws {
        let config = Config.parsedOrRecorded("[pgbouncer]\nquery_wait_timeout = \(text)")
        #expect(config?.settings.queryWaitTimeout == seconds)
    }

    /// Lists drop spaces and empty items; `listen_addr` may be `*` or empty (no TCP listener).
    @Test func listsAndListenAddr() throws {
        #expect(Config.parsedOrRecorded("[pgbouncer]\nlisten_addr = *")?.settings.listenAddr == ["*"])
        #expect(Config.parsedOrRecorded("[pgbouncer]\nlisten_addr =")?.settings.listenAddr == [])
        #expect(
            Config.parsedOrRecorded("[pgbouncer]\nadmin_users = a ,b,, c ")?.settings.adminUsers == ["a", "b", "c"])
    }

    /// `threads` is `auto` (nil) or 1 to 256; an empty `auth_file` means none.
    @Test func threadsAndEmptyAuthFile() throws {
        #expect(Config.parsedOrRecorded("[pgbouncer]\nthreads = auto")?.settings.threads == nil)
        #expect(Config.parsedOrRecorded("[pgbouncer]\nthreads = 8")?.settings.threads == 8)
        #expect(Config.parsedOrRecorded("[pgbouncer]\nauth_file =")?.settings.authFile == nil)
        #expect(Config.parsedOrRecorded("[pgbouncer]\nauth_file = users.txt")?.settings.authFile == "users.txt")
    }

    /// `trust`, `plain`, `md5`, `scram-sha-256` and `any` are accepted auth types.
    @Test(arguments: [AuthType.trust, .plain, .md5, .scramSHA256, .any])
    func supportedAuthTypes(type: AuthType) throws {
        #expect(Config.parsedOrRecorded("[pgbouncer]\nauth_type = \(type.rawValue)")?.settings.authType == type)
    }
}
