import Testing

@testable import SpillwayCore

@Suite struct ConfigErrorTests {
    static let databaseKeys =
        "host, port, dbname, user, password, pool_size, min_pool_size, reserve_pool, pool_mode, "
        + "max_db_connections, connect_query, application_name, client_encoding, datestyle, timezone, "
        + "max_db_client_connections, reserve_pool_size, auth_user, auth_dbname, auth_query, server_lifetime, "
        + "load_balance_hosts, target_session_attrs"
    static let userKeys =
        "pool_mode, pool_size, max_user_connections, max_user_client_connections, client_idle_timeout, "
        + "query_timeout, idle_transaction_timeout, reserve_pool_size"

    static let cases: [(ini: String, description: String)] = [
        // [pgbouncer] values
        (
            "[pgbouncer]\ndefault_pool_size = abc",
            "spillway.ini:2: default_pool_size: expected an integer from 1 to 10000, got 'abc'"
        ),
        (
            "[pgbouncer]\ndefault_pool_size = 0",
            "spillway.ini:2: default_pool_size: expected an integer from 1 to 10000, got '0'"
        ),
        (
            "[pgbouncer]\nmin_pool_size = 10001",
            "spillway.ini:2: min_pool_size: expected an integer from 0 to 10000, got '10001'"
        ),
        (
            "[pgbouncer]\nlisten_port = 70000",
            "spillway.ini:2: listen_port: expected an integer from 0 to 65535, got '70000'"
        ),
        (
            "[pgbouncer]\nmax_packet_size = 8",
            "spillway.ini:2: max_packet_size: expected an integer from 9 to 2147483647, got '8'"
        ),
        (
            "[pgbouncer]\nmax_client_conn = 1.5",
            "spillway.ini:2: max_client_conn: expected an integer from 1 to 1000000, got '1.5'"
        ),
        (
            "[pgbouncer]\n\npool_mode = sessoin",
            "spillway.ini:3: pool_mode: expected one of session, transaction, statement, got 'sessoin'"
        ),
        (
            "[pgbouncer]\nauth_type = pam",
            "spillway.ini:2: auth_type 'pam' is not supported by spillway; use trust, plain, md5 or scram-sha-256"
        ),
        (
            "[pgbouncer]\nauth_type = hba",
            "spillway.ini:2: auth_type 'hba' is not supported by spillway; use trust, plain, md5 or scram-sha-256"
        ),
        (
            "[pgbouncer]\nauth_type = CERT",
            "spillway.ini:2: auth_type 'cert' is not supported by spillway; use trust, plain, md5 or scram-sha-256"
        ),
        (
            "[pgbouncer]\nauth_type = kerberos",
            "spillway.ini:2: auth_type: expected one of trust, plain, md5, scram-sha-256, any, got 'kerberos'"
        ),
        (
            "[pgbouncer]\nlog_connections = maybe",
            "spillway.ini:2: log_connections: expected a boolean (0/1, yes/no, on/off, true/false), got 'maybe'"
        ),
        (
            "[pgbouncer]\nquery_wait_timeout = soon",
            "spillway.ini:2: query_wait_timeout: expected a duration in seconds "
                + "(a number, optionally with ms, s, min, h or d), got 'soon'"
        ),
        (
            "[pgbouncer]\nserver_lifetime = -1",
            "spillway.ini:2: server_lifetime: expected a duration in seconds "
                + "(a number, optionally with ms, s, min, h or d), got '-1'"
        ),
        (
            "[pgbouncer]\nserver_lifetime = 5 weeks",
            "spillway.ini:2: server_lifetime: expected a duration in seconds "
                + "(a number, optionally with ms, s, min, h or d), got '5 weeks'"
        ),
        (
            "[pgbouncer]\nthreads = 0",
            "spillway.ini:2: threads: expected 'auto' or an integer from 1 to 256, got '0'"
        ),
        // file structure
        (
            "[server]\nport = 1",
            "spillway.ini:1: unknown section [server]; expected [databases], [users], [applications] or [pgbouncer]"
        ),
        ("listen_port = 6432", "spillway.ini:1: 'listen_port' is outside any section; put settings under [pgbouncer]"),
        ("[pgbouncer]\nlisten_port", "spillway.ini:2: expected 'name = value', got 'listen_port'"),
        ("[pgbouncer]\n= 5", "spillway.ini:2: missing name before '=' in '= 5'"),
        ("[pgbouncer", "spillway.ini:1: unterminated section header '[pgbouncer'"),
        ("[databases]\n\"my db = host=x", "spillway.ini:2: unterminated quoted name in '\"my db = host=x'"),
        (
            "%include other.ini",
            "spillway.ini:1: %include needs a file to resolve against; load the config with Config.load(path:)"
        ),
        // [databases]
        (
            "[databases]\norders = host=x poolsize=5",
            "spillway.ini:2: database 'orders': unknown parameter 'poolsize'; expected one of \(databaseKeys)"
        ),
        (
            "[databases]\norders = pool_mode=sessoin",
            "spillway.ini:2: database 'orders': pool_mode: expected one of session, transaction, statement, "
                + "got 'sessoin'"
        ),
        (
            "[databases]\norders = host=x port=0",
            "spillway.ini:2: database 'orders': port: expected an integer from 1 to 65535, got '0'"
        ),
        (
            "[databases]\norders = pool_size=lots",
            "spillway.ini:2: database 'orders': pool_size: expected an integer from 0 to 10000, got 'lots'"
        ),
        (
            "[databases]\norders = connect_query='SELECT 1",
            "spillway.ini:2: database 'orders': unterminated quoted value for 'connect_query'"
        ),
        ("[databases]\norders = localhost", "spillway.ini:2: database 'orders': expected key=value, got 'localhost'"),
        (
            "[databases]\norders = user=app password=two words",
            "spillway.ini:2: database 'orders': expected key=value after the password (quote values with spaces)"
        ),
        (
            "[databases]\norders = dbname='a'host=b",
            "spillway.ini:2: database 'orders': expected a space after the quoted value of 'dbname'"
        ),
        ("[databases]\norders = =x", "spillway.ini:2: database 'orders': missing parameter name before '='"),
        (
            "[databases]\npgbouncer = host=x",
            "spillway.ini:2: database name 'pgbouncer' is reserved for the admin console"
        ),
        // [users]
        (
            "[users]\nnightly = pool_mode=transaction timeout=5",
            "spillway.ini:2: user 'nightly': unknown parameter 'timeout'; expected one of \(userKeys)"
        ),
        (
            "[users]\nnightly = pool_size=many",
            "spillway.ini:2: user 'nightly': pool_size: expected an integer from 0 to 10000, got 'many'"
        ),
        (
            "[users]\nnightly = pool_mode=batch",
            "spillway.ini:2: user 'nightly': pool_mode: expected one of session, transaction, statement, got 'batch'"
        ),
    ]

    /// Each malformed file fails with one error naming file, line, key and what is allowed.
    @Test(arguments: cases)
    func errorDescription(ini: String, description: String) {
        #expect(Config.parseError(ini)?.description == description)
    }

    /// The structured diagnostic carries the line and the setting, database or user the line is about.
    @Test func diagnosticCarriesLineAndKey() {
        let setting = Config.parseError("[pgbouncer]\nlisten_port = 6432\nPOOL_MODE = x")?.diagnostic
        #expect(setting?.line == 3)
        #expect(setting?.key == "pool_mode")
        #expect(setting?.file == "spillway.ini")
        #expect(setting?.message == "pool_mode: expected one of session, transaction, statement, got 'x'")
        let database = Config.parseError("[databases]\norders = port=x")?.diagnostic
        #expect(database?.key == "orders")
        #expect(database?.line == 2)
    }

    /// A bad password value is never repeated in an error.
    @Test func errorsDoNotQuotePasswords() {
        let error = Config.parseError("[databases]\norders = password=hunter2 secret")
        #expect(error != nil)
        #expect(error?.description.contains("hunter2") == false)
        #expect(error?.description.contains("secret") == false)
    }

    /// The first error stops parsing; later errors are not reported.
    @Test func firstErrorWins() {
        #expect(Config.parseError("[pgbouncer]\nlisten_port = x\nverbose = y")?.diagnostic.line == 2)
    }
}
