extension SettingsTable {
    /// PgBouncer settings Spillway does not implement. So that no file asks for something it does not get, each
    /// is either refused unless it holds PgBouncer's default (TLS, other ways to authenticate, features not
    /// built yet: startup and reload fail naming file, line and key), or, when it only tunes PgBouncer's own
    /// internals, accepted with a warning. Stored as written in `Settings.passthrough`. Defaults are PgBouncer's.
    static let passthrough: [SettingDefinition] = [
        .unsupported("auth_dbname", \.passthrough, "Database in which `auth_query` runs."),
        .unsupported("auth_hba_file", \.passthrough, "pg_hba.conf-style rules for `auth_type = hba`."),
        .unsupported("auth_ident_file", \.passthrough, "pg_ident.conf-style user name maps."),
        .unsupported("auth_ldap_options", \.passthrough, "LDAP options for `auth_type = ldap`."),
        .unsupported(
            "auth_query", \.passthrough,
            default: "SELECT rolname, CASE WHEN rolvaliduntil < now() THEN NULL ELSE rolpassword END "
                + "FROM pg_authid WHERE rolname=$1 AND rolcanlogin",
            "Query that looks up a user's password on the server."),
        .unsupported("auth_user", \.passthrough, "User whose credentials run `auth_query`."),
        .ignored(
            "autodb_idle_timeout", \.passthrough, default: "3600",
            "Seconds after which unused `*` databases are dropped; Spillway closes their idle servers after "
                + "`server_idle_timeout`."),
        .unsupported("client_tls13_ciphers", \.passthrough, "TLS 1.3 cipher suites for clients."),
        .unsupported("client_tls_ca_file", \.passthrough, "CA file for client certificates."),
        .unsupported("client_tls_cert_file", \.passthrough, "Certificate presented to clients."),
        .unsupported("client_tls_ciphers", \.passthrough, default: "default", "TLS cipher list for clients."),
        .unsupported("client_tls_dheparams", \.passthrough, default: "auto", "DH parameters for clients."),
        .unsupported("client_tls_ecdhcurve", \.passthrough, default: "auto", "ECDH curve for clients."),
        .unsupported("client_tls_key_file", \.passthrough, "Private key for `client_tls_cert_file`."),
        .unsupported("client_tls_protocols", \.passthrough, default: "secure", "TLS versions for clients."),
        .unsupported(
            "client_tls_sslmode", \.passthrough, default: "disable",
            "TLS mode for clients; only `disable` until TLS is built (clients asking for TLS are told no)."),
        .ignored("conffile", \.passthrough, "Path of the config file, shown by `SHOW CONFIG`."),
        .unsupported(
            "disable_pqexec", \.passthrough, default: "0", reloadable: false,
            "Refuse multi-statement simple queries."),
        .ignored("dns_max_ttl", \.passthrough, default: "15", "How long DNS answers are cached."),
        .ignored("dns_nxdomain_ttl", \.passthrough, default: "15", "How long DNS failures are cached."),
        .ignored("dns_zone_check_period", \.passthrough, default: "0", "How often DNS zone serials are checked."),
        .ignored(
            "job_name", \.passthrough, default: "pgbouncer", reloadable: false,
            "Windows service name; see `syslog_ident` for the name in the log."),
        .unsupported(
            "max_prepared_statements", \.passthrough, default: "200", alsoAccepted: ["0"],
            "Protocol-level prepared statements tracked per server in transaction mode; only 0 (statements pass "
                + "through untracked, as Spillway does today) is honoured, PgBouncer's default 200 is accepted."),
        .unsupported("peer_id", \.passthrough, default: "0", "This instance's id among `[peers]`."),
        .ignored("pkt_buf", \.passthrough, default: "4096", reloadable: false, "Size of PgBouncer's packet buffers."),
        .unsupported("resolv_conf", \.passthrough, reloadable: false, "Alternative resolv.conf for DNS."),
        .ignored(
            "sbuf_loopcnt", \.passthrough, default: "5", "Read rounds per connection before others get a turn."),
        .unsupported("scram_iterations", \.passthrough, default: "4096", "SCRAM iterations for plain passwords."),
        .unsupported("server_fast_close", \.passthrough, default: "0", "Close server connections early on RECONNECT."),
        .unsupported("server_round_robin", \.passthrough, default: "0", "Reuse server connections round-robin."),
        .unsupported("server_tls13_ciphers", \.passthrough, "TLS 1.3 cipher suites for servers."),
        .unsupported("server_tls_ca_file", \.passthrough, "CA file for server certificates."),
        .unsupported("server_tls_cert_file", \.passthrough, "Certificate presented to servers."),
        .unsupported("server_tls_ciphers", \.passthrough, default: "default", "TLS cipher list for servers."),
        .unsupported("server_tls_key_file", \.passthrough, "Private key for `server_tls_cert_file`."),
        .unsupported("server_tls_protocols", \.passthrough, default: "secure", "TLS versions for servers."),
        .unsupported(
            "server_tls_sslmode", \.passthrough, default: "prefer", alsoAccepted: ["disable", "allow"],
            "TLS mode for servers; until TLS is built Spillway connects in plain text, which `disable`, `allow` "
                + "and `prefer` permit; `require` and `verify-*` are refused."),
        .ignored(
            "service_name", \.passthrough, reloadable: false, "Windows service name (alias of `job_name`)."),
        .ignored(
            "suspend_timeout", \.passthrough, default: "10", "How long SUSPEND waits; Spillway has no SUSPEND."),
        .ignored("tcp_defer_accept", \.passthrough, default: "45", "TCP_DEFER_ACCEPT seconds on Linux."),
        .unsupported(
            "track_extra_parameters", \.passthrough, default: "IntervalStyle", reloadable: false,
            "Extra startup parameters tracked per client in transaction mode."),
    ]
}
