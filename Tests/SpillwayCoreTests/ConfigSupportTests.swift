import Testing

@testable import SpillwayCore

/// No PgBouncer setting is accepted and then ignored: each row is implemented, refused unless it holds
/// PgBouncer's default, or accepted with a warning.
@Suite struct ConfigSupportTests {
    /// The settings the issue names as implemented are rows with an effect, not passthrough.
    @Test(arguments: [
        "user", "logfile", "pidfile", "syslog", "syslog_ident", "syslog_facility", "unix_socket_mode",
        "unix_socket_group", "listen_backlog", "max_db_client_connections", "max_user_client_connections",
        "transaction_timeout", "query_wait_notify", "tcp_socket_buffer", "idle_transaction_reclaim_after",
    ])
    func implementedSettingsHaveAnEffect(name: String) throws {
        let definition = try #require(SettingsTable.definition(name))
        #expect(definition.support == .implemented)
    }

    /// A value that asks for more than Spillway does stops the load with file, line, key and "not supported yet".
    @Test(arguments: [
        ("client_tls_sslmode = require", "client_tls_sslmode", "TLS"),
        ("server_tls_sslmode = verify-full", "server_tls_sslmode", "TLS"),
        ("client_tls_cert_file = /etc/ssl/server.crt", "client_tls_cert_file", "TLS"),
        ("auth_hba_file = /etc/pgbouncer/hba.conf", "auth_hba_file", "authenticate"),
        ("auth_query = SELECT 1", "auth_query", "authenticate"),
        ("auth_user = pgbouncer", "auth_user", "authenticate"),
        ("max_prepared_statements = 100", "max_prepared_statements", "not supported yet"),
        ("disable_pqexec = 1", "disable_pqexec", "not supported yet"),
        ("server_round_robin = 1", "server_round_robin", "not supported yet"),
    ])
    func nonDefaultUnsupportedValueIsRefused(line: String, key: String, reason: String) {
        do {
            _ = try Config.parse("[pgbouncer]\nlisten_port = 6432\n\(line)\n", file: "pgbouncer.ini")
            Issue.record("\(line) was accepted")
        } catch {
            #expect(error.diagnostic.file == "pgbouncer.ini")
            #expect(error.diagnostic.line == 3)
            #expect(error.diagnostic.key == key)
            #expect(error.description.hasPrefix("pgbouncer.ini:3: "), "\(error.description)")
            #expect(error.description.contains("not supported yet"), "\(error.description)")
            #expect(error.description.contains(reason), "\(error.description)")
        }
    }

    /// PgBouncer's defaults (and values that describe what Spillway does) still load, so an existing file starts.
    @Test(arguments: [
        "client_tls_sslmode = disable", "server_tls_sslmode = prefer", "server_tls_sslmode = disable",
        "max_prepared_statements = 0", "max_prepared_statements = 200", "disable_pqexec = off",
        "client_tls_protocols = secure", "scram_iterations = 4096",
    ])
    func defaultValuesOfUnsupportedSettingsLoad(line: String) throws {
        let config = try Config.parse("[pgbouncer]\n\(line)\n", file: "pgbouncer.ini")
        #expect(config.warnings.isEmpty)
    }

    /// Settings that only tune PgBouncer's internals load with one warning naming the line.
    @Test(arguments: ["pkt_buf = 8192", "sbuf_loopcnt = 10", "dns_max_ttl = 30", "tcp_defer_accept = 0"])
    func internalTuningIsAcceptedWithAWarning(line: String) throws {
        let config = try Config.parse("[pgbouncer]\n\(line)\n", file: "pgbouncer.ini")
        #expect(config.warnings.count == 1)
        #expect(config.warnings.first?.line == 2)
        #expect(config.warnings.first?.description.contains("no effect") == true)
    }

    /// Every row is one of the three kinds, and the passthrough table holds no implemented row.
    @Test func everyPassthroughRowIsRefusedOrWarned() {
        for definition in SettingsTable.passthrough {
            #expect(definition.support != .implemented, "\(definition.name)")
        }
    }

    /// unix_socket_mode reads octal; other text is an error naming the setting.
    @Test func unixSocketModeIsOctal() throws {
        let config = try Config.parse("[pgbouncer]\nunix_socket_mode = 0660\n", file: "a.ini")
        #expect(config.settings.unixSocketMode == 0o660)
        #expect(SettingsTable.definition("unix_socket_mode")?.currentText(config.settings) == "0660")
        #expect(throws: ConfigError.self) { try Config.parse("[pgbouncer]\nunix_socket_mode = 0999\n", file: "a.ini") }
    }
}
