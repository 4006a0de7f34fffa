extension SettingsTable {
    /// PgBouncer settings Spillway accepts and stores as text in `Settings.passthrough` with no effect yet,
    /// so an existing pgbouncer.ini starts. Defaults are PgBouncer's.
    static let passthrough: [SettingDefinition] = [
        .passthrough("auth_dbname", \.passthrough, "Database in which `auth_query` runs."),
        .passthrough("auth_hba_file", \.passthrough, "pg_hba.conf-style rules for `auth_type = hba`."),
        .passthrough("auth_ident_file", \.passthrough, "pg_ident.conf-style user name maps."),
        .passthrough("auth_ldap_options", \.passthrough, "LDAP options for `auth_type = ldap`."),
        .passthrough(
            "auth_query", \.passthrough,
            default: "SELECT rolname, CASE WHEN rolvaliduntil < now() THEN NULL ELSE rolpassword END "
                + "FROM pg_authid WHERE rolname=$1 AND rolcanlogin",
            "Query that looks up a user's password on the server."),
        .passthrough("auth_user", \.passthrough, "User whose credentials run `auth_query`."),
        .passthrough(
            "autodb_idle_timeout", \.passthrough, default: "3600",
            "Seconds after which unused `*` databases are dropped."),
        .passthrough("client_tls13_ciphers", \.passthrough, "TLS 1.3 cipher suites for clients."),
        .passthrough("client_tls_ca_file", \.passthrough, "CA file for client certificates."),
        .passthrough("client_tls_cert_file", \.passthrough, "Certificate presented to clients."),
        .passthrough("client_tls_ciphers", \.passthrough, default: "default", "TLS cipher list for clients."),
        .passthrough("client_tls_dheparams", \.passthrough, default: "auto", "DH parameters for clients."),
        .passthrough("client_tls_ecdhcurve", \.passthrough, default: "auto", "ECDH curve for clients."),
        .passthrough("client_tls_key_file", \.passthrough, "Private key for `client_tls_cert_file`."),
        .passthrough("client_tls_protocols", \.passthrough, default: "secure", "TLS versions for clients."),
        .passthrough("client_tls_sslmode", \.passthrough, default: "disable", "TLS mode for clients."),
        .passthrough("conffile", \.passthrough, "Path of the config file, shown by `SHOW CONFIG`."),
        .passthrough(
            "disable_pqexec", \.passthrough, default: "0", reloadable: false,
            "Refuse multi-statement simple queries."),
        .passthrough("dns_max_ttl", \.passthrough, default: "15", "How long DNS answers are cached."),
        .passthrough("dns_nxdomain_ttl", \.passthrough, default: "15", "How long DNS failures are cached."),
        .passthrough("dns_zone_check_period", \.passthrough, default: "0", "How often DNS zone serials are checked."),
        .passthrough(
            "job_name", \.passthrough, default: "pgbouncer", reloadable: false, "Service name for the logs."),
        .passthrough(
            "listen_backlog", \.passthrough, default: "128", reloadable: false, "Backlog of the listening socket."),
        .passthrough("logfile", \.passthrough, "File the log is written to."),
        .passthrough(
            "max_db_client_connections", \.passthrough, default: "0", "Client connections per database; 0: no limit."),
        .passthrough(
            "max_prepared_statements", \.passthrough, default: "200",
            "Protocol-level prepared statements tracked per client in transaction mode."),
        .passthrough(
            "max_user_client_connections", \.passthrough, default: "0", "Client connections per user; 0 is unlimited."),
        .passthrough("peer_id", \.passthrough, default: "0", "This instance's id among `[peers]`."),
        .passthrough("pidfile", \.passthrough, reloadable: false, "File the process id is written to."),
        .passthrough("pkt_buf", \.passthrough, default: "4096", reloadable: false, "Size of internal packet buffers."),
        .passthrough(
            "query_wait_notify", \.passthrough, default: "5", "Seconds of waiting after which clients are told."),
        .passthrough("resolv_conf", \.passthrough, reloadable: false, "Alternative resolv.conf for DNS."),
        .passthrough(
            "sbuf_loopcnt", \.passthrough, default: "5", "Read rounds per connection before others get a turn."),
        .passthrough("scram_iterations", \.passthrough, default: "4096", "SCRAM iterations for plain passwords."),
        .passthrough("server_fast_close", \.passthrough, default: "0", "Close server connections early on RECONNECT."),
        .passthrough("server_round_robin", \.passthrough, default: "0", "Reuse server connections round-robin."),
        .passthrough("server_tls13_ciphers", \.passthrough, "TLS 1.3 cipher suites for servers."),
        .passthrough("server_tls_ca_file", \.passthrough, "CA file for server certificates."),
        .passthrough("server_tls_cert_file", \.passthrough, "Certificate presented to servers."),
        .passthrough("server_tls_ciphers", \.passthrough, default: "default", "TLS cipher list for servers."),
        .passthrough("server_tls_key_file", \.passthrough, "Private key for `server_tls_cert_file`."),
        .passthrough("server_tls_protocols", \.passthrough, default: "secure", "TLS versions for servers."),
        .passthrough("server_tls_sslmode", \.passthrough, default: "prefer", "TLS mode for servers."),
        .passthrough("service_name", \.passthrough, reloadable: false, "Windows service name (alias of `job_name`)."),
        .passthrough("suspend_timeout", \.passthrough, default: "10", "How long SUSPEND waits for buffers to flush."),
        .passthrough("syslog", \.passthrough, default: "0", "Log to syslog."),
        .passthrough("syslog_facility", \.passthrough, default: "daemon", "Syslog facility."),
        .passthrough("syslog_ident", \.passthrough, default: "pgbouncer", "Syslog program name."),
        .passthrough("tcp_defer_accept", \.passthrough, default: "45", "TCP_DEFER_ACCEPT seconds on Linux."),
        .passthrough("tcp_socket_buffer", \.passthrough, default: "0", "Socket buffer size in bytes."),
        .passthrough(
            "track_extra_parameters", \.passthrough, default: "IntervalStyle", reloadable: false,
            "Extra startup parameters tracked per client in transaction mode."),
        .passthrough("transaction_timeout", \.passthrough, default: "0", "Cancel transactions longer than this."),
        .passthrough("unix_socket_group", \.passthrough, reloadable: false, "Group owning the Unix socket."),
        .passthrough("unix_socket_mode", \.passthrough, default: "0777", reloadable: false, "Unix socket permissions."),
        .passthrough("user", \.passthrough, reloadable: false, "Operating system user to switch to after start."),
    ]
}
