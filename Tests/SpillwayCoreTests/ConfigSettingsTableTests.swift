import Testing

@testable import SpillwayCore

@Suite struct ConfigSettingsTableTests {
    /// Every stored property of `Settings` except `passthrough` has exactly one row with an effect.
    @Test func everySettingsPropertyHasARow() {
        let properties = Mirror(reflecting: Settings()).children.compactMap(\.label).filter { $0 != "passthrough" }
        #expect(SettingsTable.all.filter(\.hasEffect).count == properties.count)
        let databaseFields = Mirror(reflecting: DatabaseConfig(name: "x")).children.compactMap(\.label)
            .filter { $0 != "name" && $0 != "passthrough" }
        // reserve_pool and reserve_pool_size (PgBouncer's newer spelling) are one field.
        #expect(DatabaseConfig.parameters.filter(\.hasEffect).count == databaseFields.count + 1)
        let userFields = Mirror(reflecting: UserConfig(name: "x")).children.compactMap(\.label)
            .filter { $0 != "name" && $0 != "passthrough" }
        #expect(UserConfig.parameters.filter(\.hasEffect).count == userFields.count)
    }

    /// Names are unique, lowercase and found by `definition(_:)` in any letter case.
    @Test func namesAreUniqueAndLookupIsCaseInsensitive() {
        let names = SettingsTable.all.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(names.allSatisfy { $0 == $0.lowercased() })
        #expect(SettingsTable.definition("Query_Wait_Timeout")?.name == "query_wait_timeout")
        #expect(SettingsTable.definition("nonsense") == nil)
    }

    /// Defaults are read from `Settings()` and printed the way `SHOW CONFIG` prints them.
    @Test(arguments: [
        ("listen_addr", "127.0.0.1"), ("listen_port", "6432"), ("unix_socket_dir", "/tmp"), ("auth_type", "md5"),
        ("auth_file", ""), ("pool_mode", "session"), ("default_pool_size", "20"), ("reserve_pool_timeout", "5"),
        ("query_wait_timeout", "30"), ("server_check_query", "select 1"), ("log_connections", "1"),
        ("server_reset_query_always", "0"), ("threads", "auto"), ("max_packet_size", "2147483647"),
        ("logfile", ""), ("stats_period", "60"), ("server_tls_sslmode", "prefer"),
    ])
    func defaultText(name: String, text: String) throws {
        let definition = try #require(SettingsTable.definition(name))
        #expect(definition.defaultText == text)
        #expect(definition.currentText(Settings()) == text)
    }

    /// Writing each row's default text back through the row leaves `Settings()` unchanged (except that
    /// passthrough rows then hold their text).
    @Test func defaultTextRoundTrips() throws {
        for definition in SettingsTable.all where definition.hasEffect {
            var settings = Settings()
            try definition.apply(definition.defaultText, to: &settings)
            #expect(settings == Settings(), "\(definition.name)")
        }
    }

    /// Only listener and process settings need a restart.
    @Test func reloadableFlags() {
        let fixed = SettingsTable.all.filter { !$0.reloadable && $0.hasEffect }.map(\.name)
        #expect(fixed == [
            "listen_addr", "listen_backlog", "listen_port", "log_format", "metrics_listen_addr", "metrics_listen_port",
            "pidfile", "so_reuseport", "syslog", "syslog_facility", "syslog_ident", "threads", "unix_socket_dir",
            "unix_socket_group", "unix_socket_mode", "user",
        ].sorted { fixed.firstIndex(of: $0)! < fixed.firstIndex(of: $1)! })
        #expect(Set(fixed).count == 16)
        #expect(SettingsTable.definition("pidfile")?.reloadable == false)
        #expect(SettingsTable.definition("logfile")?.reloadable == true)
    }

    /// `apply` serves `SET`: it parses one value and reports errors without a file or line.
    @Test func applyAndChangesServeSetAndReload() throws {
        var settings = Settings()
        try #require(SettingsTable.definition("query_wait_timeout")).apply("2min", to: &settings)
        try #require(SettingsTable.definition("logfile")).apply("/var/log/x.log", to: &settings)
        #expect(settings.queryWaitTimeout == 120)
        #expect(settings.logfile == "/var/log/x.log")
        try #require(SettingsTable.definition("server_login_retry")).apply("0.25", to: &settings)
        #expect(SettingsTable.definition("server_login_retry")?.currentText(settings) == "0.25")
        #expect(SettingsTable.changes(from: Settings(), to: settings).map(\.name) == [
            "logfile", "query_wait_timeout", "server_login_retry",
        ])
        #expect(throws: InvalidSettingValue("verbose: expected an integer from 0 to 10, got 'x'")) {
            try #require(SettingsTable.definition("verbose")).apply("x", to: &settings)
        }
    }

    /// Kinds describe themselves for the docs.
    @Test func kindDescriptions() {
        #expect(SettingsTable.definition("default_pool_size")?.kind.description == "integer 1–10000")
        #expect(SettingsTable.definition("pool_mode")?.kind == .choice(["session", "transaction", "statement"]))
        #expect(SettingsTable.definition("threads")?.kind.description == "`auto` or integer 1–256")
        #expect(SettingsTable.definition("logfile")?.kind == .string)
        #expect(SettingsTable.definition("client_tls_sslmode")?.kind == .text)
    }
}
