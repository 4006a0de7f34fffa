// Reference data for Spillway's PgBouncer-compatible admin console. Not a test by itself.

/// PgBouncer 1.18's admin console, as recorded from the real binary on 2026-11-26.
///
/// How: PgBouncer 1.18.0 (Debian package, libevent 2.1.12, c-ares 1.18.1, OpenSSL 3.0) was run as the
/// `postgres` OS user in front of a throwaway PostgreSQL 15 cluster (`scripts/pg start`), with
/// `[databases] db = host=127.0.0.1 port=N dbname=postgres user=postgres`, `listen_addr = 127.0.0.1`,
/// `auth_type = md5` and a userlist (admin, stats, bob), `admin_users = admin`, `stats_users = stats`,
/// `pool_mode = session`. A stdlib-only Python 3 client spoke protocol 3.0 directly (StartupMessage,
/// MD5 auth, simple Query) and decoded RowDescription / DataRow / CommandComplete / NoticeResponse /
/// ErrorResponse. The sample rows were taken while client `bob` ran `SELECT pg_sleep(8)` on `db` and
/// client `stats` sat in session on `db` after `SELECT 1` (both with application_name `probe`), and
/// `admin` was on the console. Column names were cross-checked with `psql -c 'SHOW POOLS'`.
///
/// Every RowDescription field has table OID 0, attnum 0, typmod -1 and format 0 (text);
/// typlen is -1 for text/numeric/bytea, 4 for int4, 8 for int8. Type OIDs used: 25 text, 23 int4,
/// 20 int8, 1700 numeric, 17 bytea. Note: text columns are `text` (25), not `varchar` (1043).
///
/// Observations worth knowing (all from the recording):
/// - `SHOW STATE` (and `SHOW PEERS` / `SHOW PEER_POOLS`) do not exist in 1.18: they answer the
///   generic "invalid command" error. `SHOW HELP` returns no RowDescription, only a NOTICE plus tag "SHOW".
/// - Every error uses SQLSTATE 08P01 and carries only the S, C and M fields (no V, no D/H, no F/L/R).
/// - Commands are case-insensitive and a trailing `;` is accepted (`show pools;`), but extra
///   arguments (`SHOW POOLS db`), multiple statements, the empty query and `;` alone are all
///   "invalid command '<query text verbatim>', use SHOW HELP;" (the empty query is NOT EmptyQueryResponse).
/// - `SET key = value` answers the tag "SET key=value" (no spaces, quotes stripped); an unknown key or bad
///   value answers ERROR "SET failed". `SET listen_port = 1` (not changeable online) still succeeds.
/// - `SHUTDOWN` sends nothing at all: no CommandComplete, no ErrorResponse; the socket just closes
///   and the process exits.
/// - A non-admin, non-stats user connecting to database `pgbouncer` gets FATAL 08P01 "not allowed"
///   immediately after the StartupMessage, before any authentication request (same under md5 and trust).
///   A stats_users member can log in and run SHOW commands (except SHOW FDS) but every other
///   command answers ERROR "admin access needed".
/// - `KILL db` makes the session clients of db receive FATAL 08P01 "database removed" and leaves db
///   paused (a later `RESUME db` answers "RESUME").
/// - SHOW FDS works over TCP under both md5 and trust (it just does not pass fds). Its `cancel` column is
///   typed int8 but holds the 64-bit cancel key printed as UNSIGNED, so values above 2^63-1 occur
///   (e.g. 13330958063415964366). Client rows of the admin console itself are not listed in FDS.
/// - SHOW STATS / STATS_TOTALS / STATS_AVERAGES / TOTALS values are `numeric` (1700); SHOW DNS_HOSTS.ttl
///   and SHOW DNS_ZONES.serial are int8; everything else numeric is int4.
/// - Timestamps are "YYYY-MM-DD HH:MM:SS UTC" (no fractional seconds, zone abbreviation suffix);
///   ptr/link are "0x" + lowercase hex of a C pointer, link is "" (empty string, not NULL) when unlinked;
///   tls is "" without TLS; remote_pid is 0 for clients and the backend PID for servers.
/// - wait / wait_us (and POOLS maxwait / maxwait_us) look like whole seconds + the sub-second remainder in µs,
///   not a total in µs: bob, 1.5 s into its query, showed wait "1", wait_us "501818".
/// - SHOW SOCKETS / ACTIVE_SOCKETS states are prefixed ("cl_active", "sv_active") while
///   SHOW CLIENTS / SERVERS say "active". SHOW CLIENTS.type is "C", SERVERS.type is "S".
/// - SHOW DATABASES: pool_mode is NULL unless set per database; host is NULL for the "pgbouncer"
///   pseudo-database (whose pool_mode is "statement", pool_size 2, port = listen port).
///   SHOW USERS.pool_mode is NULL unless set per user.
/// - SHOW CONFIG.default is NULL for settings without a default (e.g. auth_file); changeable is "yes"/"no".
enum PgBouncerConsole {
    struct Column: Equatable { let name: String; let typeOID: UInt32 }

    /// Columns of each SHOW command, in order.
    static let columns: [String: [Column]] = [
        "POOLS": [
            .init(name: "database", typeOID: 25),  // text
            .init(name: "user", typeOID: 25),  // text
            .init(name: "cl_active", typeOID: 23),  // int4
            .init(name: "cl_waiting", typeOID: 23),  // int4
            .init(name: "cl_active_cancel_req", typeOID: 23),  // int4
            .init(name: "cl_waiting_cancel_req", typeOID: 23),  // int4
            .init(name: "sv_active", typeOID: 23),  // int4
            .init(name: "sv_active_cancel", typeOID: 23),  // int4
            .init(name: "sv_being_canceled", typeOID: 23),  // int4
            .init(name: "sv_idle", typeOID: 23),  // int4
            .init(name: "sv_used", typeOID: 23),  // int4
            .init(name: "sv_tested", typeOID: 23),  // int4
            .init(name: "sv_login", typeOID: 23),  // int4
            .init(name: "maxwait", typeOID: 23),  // int4
            .init(name: "maxwait_us", typeOID: 23),  // int4
            .init(name: "pool_mode", typeOID: 25),  // text
        ],
        "CLIENTS": [
            .init(name: "type", typeOID: 25),  // text
            .init(name: "user", typeOID: 25),  // text
            .init(name: "database", typeOID: 25),  // text
            .init(name: "state", typeOID: 25),  // text
            .init(name: "addr", typeOID: 25),  // text
            .init(name: "port", typeOID: 23),  // int4
            .init(name: "local_addr", typeOID: 25),  // text
            .init(name: "local_port", typeOID: 23),  // int4
            .init(name: "connect_time", typeOID: 25),  // text
            .init(name: "request_time", typeOID: 25),  // text
            .init(name: "wait", typeOID: 23),  // int4
            .init(name: "wait_us", typeOID: 23),  // int4
            .init(name: "close_needed", typeOID: 23),  // int4
            .init(name: "ptr", typeOID: 25),  // text
            .init(name: "link", typeOID: 25),  // text
            .init(name: "remote_pid", typeOID: 23),  // int4
            .init(name: "tls", typeOID: 25),  // text
            .init(name: "application_name", typeOID: 25),  // text
        ],
        "SERVERS": [
            .init(name: "type", typeOID: 25),  // text
            .init(name: "user", typeOID: 25),  // text
            .init(name: "database", typeOID: 25),  // text
            .init(name: "state", typeOID: 25),  // text
            .init(name: "addr", typeOID: 25),  // text
            .init(name: "port", typeOID: 23),  // int4
            .init(name: "local_addr", typeOID: 25),  // text
            .init(name: "local_port", typeOID: 23),  // int4
            .init(name: "connect_time", typeOID: 25),  // text
            .init(name: "request_time", typeOID: 25),  // text
            .init(name: "wait", typeOID: 23),  // int4
            .init(name: "wait_us", typeOID: 23),  // int4
            .init(name: "close_needed", typeOID: 23),  // int4
            .init(name: "ptr", typeOID: 25),  // text
            .init(name: "link", typeOID: 25),  // text
            .init(name: "remote_pid", typeOID: 23),  // int4
            .init(name: "tls", typeOID: 25),  // text
            .init(name: "application_name", typeOID: 25),  // text
        ],
        "STATS": [
            .init(name: "database", typeOID: 25),  // text
            .init(name: "total_xact_count", typeOID: 1700),  // numeric
            .init(name: "total_query_count", typeOID: 1700),  // numeric
            .init(name: "total_received", typeOID: 1700),  // numeric
            .init(name: "total_sent", typeOID: 1700),  // numeric
            .init(name: "total_xact_time", typeOID: 1700),  // numeric
            .init(name: "total_query_time", typeOID: 1700),  // numeric
            .init(name: "total_wait_time", typeOID: 1700),  // numeric
            .init(name: "avg_xact_count", typeOID: 1700),  // numeric
            .init(name: "avg_query_count", typeOID: 1700),  // numeric
            .init(name: "avg_recv", typeOID: 1700),  // numeric
            .init(name: "avg_sent", typeOID: 1700),  // numeric
            .init(name: "avg_xact_time", typeOID: 1700),  // numeric
            .init(name: "avg_query_time", typeOID: 1700),  // numeric
            .init(name: "avg_wait_time", typeOID: 1700),  // numeric
        ],
        "STATS_TOTALS": [
            .init(name: "database", typeOID: 25),  // text
            .init(name: "xact_count", typeOID: 1700),  // numeric
            .init(name: "query_count", typeOID: 1700),  // numeric
            .init(name: "bytes_received", typeOID: 1700),  // numeric
            .init(name: "bytes_sent", typeOID: 1700),  // numeric
            .init(name: "xact_time", typeOID: 1700),  // numeric
            .init(name: "query_time", typeOID: 1700),  // numeric
            .init(name: "wait_time", typeOID: 1700),  // numeric
        ],
        "STATS_AVERAGES": [
            .init(name: "database", typeOID: 25),  // text
            .init(name: "xact_count", typeOID: 1700),  // numeric
            .init(name: "query_count", typeOID: 1700),  // numeric
            .init(name: "bytes_received", typeOID: 1700),  // numeric
            .init(name: "bytes_sent", typeOID: 1700),  // numeric
            .init(name: "xact_time", typeOID: 1700),  // numeric
            .init(name: "query_time", typeOID: 1700),  // numeric
            .init(name: "wait_time", typeOID: 1700),  // numeric
        ],
        "DATABASES": [
            .init(name: "name", typeOID: 25),  // text
            .init(name: "host", typeOID: 25),  // text
            .init(name: "port", typeOID: 23),  // int4
            .init(name: "database", typeOID: 25),  // text
            .init(name: "force_user", typeOID: 25),  // text
            .init(name: "pool_size", typeOID: 23),  // int4
            .init(name: "min_pool_size", typeOID: 23),  // int4
            .init(name: "reserve_pool", typeOID: 23),  // int4
            .init(name: "pool_mode", typeOID: 25),  // text
            .init(name: "max_connections", typeOID: 23),  // int4
            .init(name: "current_connections", typeOID: 23),  // int4
            .init(name: "paused", typeOID: 23),  // int4
            .init(name: "disabled", typeOID: 23),  // int4
        ],
        "USERS": [
            .init(name: "name", typeOID: 25),  // text
            .init(name: "pool_mode", typeOID: 25),  // text
        ],
        "CONFIG": [
            .init(name: "key", typeOID: 25),  // text
            .init(name: "value", typeOID: 25),  // text
            .init(name: "default", typeOID: 25),  // text
            .init(name: "changeable", typeOID: 25),  // text
        ],
        "LISTS": [
            .init(name: "list", typeOID: 25),  // text
            .init(name: "items", typeOID: 23),  // int4
        ],
        "VERSION": [
            .init(name: "version", typeOID: 25),  // text
        ],
        "MEM": [
            .init(name: "name", typeOID: 25),  // text
            .init(name: "size", typeOID: 23),  // int4
            .init(name: "used", typeOID: 23),  // int4
            .init(name: "free", typeOID: 23),  // int4
            .init(name: "memtotal", typeOID: 23),  // int4
        ],
        "FDS": [
            .init(name: "fd", typeOID: 23),  // int4
            .init(name: "task", typeOID: 25),  // text
            .init(name: "user", typeOID: 25),  // text
            .init(name: "database", typeOID: 25),  // text
            .init(name: "addr", typeOID: 25),  // text
            .init(name: "port", typeOID: 23),  // int4
            .init(name: "cancel", typeOID: 20),  // int8
            .init(name: "link", typeOID: 23),  // int4
            .init(name: "client_encoding", typeOID: 25),  // text
            .init(name: "std_strings", typeOID: 25),  // text
            .init(name: "datestyle", typeOID: 25),  // text
            .init(name: "timezone", typeOID: 25),  // text
            .init(name: "password", typeOID: 25),  // text
            .init(name: "scram_client_key", typeOID: 17),  // bytea
            .init(name: "scram_server_key", typeOID: 17),  // bytea
        ],
        "DNS_HOSTS": [
            .init(name: "hostname", typeOID: 25),  // text
            .init(name: "ttl", typeOID: 20),  // int8
            .init(name: "addrs", typeOID: 25),  // text
        ],
        "DNS_ZONES": [
            .init(name: "zonename", typeOID: 25),  // text
            .init(name: "serial", typeOID: 20),  // int8
            .init(name: "count", typeOID: 23),  // int4
        ],
        "SOCKETS": [
            .init(name: "type", typeOID: 25),  // text
            .init(name: "user", typeOID: 25),  // text
            .init(name: "database", typeOID: 25),  // text
            .init(name: "state", typeOID: 25),  // text
            .init(name: "addr", typeOID: 25),  // text
            .init(name: "port", typeOID: 23),  // int4
            .init(name: "local_addr", typeOID: 25),  // text
            .init(name: "local_port", typeOID: 23),  // int4
            .init(name: "connect_time", typeOID: 25),  // text
            .init(name: "request_time", typeOID: 25),  // text
            .init(name: "wait", typeOID: 23),  // int4
            .init(name: "wait_us", typeOID: 23),  // int4
            .init(name: "close_needed", typeOID: 23),  // int4
            .init(name: "ptr", typeOID: 25),  // text
            .init(name: "link", typeOID: 25),  // text
            .init(name: "remote_pid", typeOID: 23),  // int4
            .init(name: "tls", typeOID: 25),  // text
            .init(name: "application_name", typeOID: 25),  // text
            .init(name: "recv_pos", typeOID: 23),  // int4
            .init(name: "pkt_pos", typeOID: 23),  // int4
            .init(name: "pkt_remain", typeOID: 23),  // int4
            .init(name: "send_pos", typeOID: 23),  // int4
            .init(name: "send_remain", typeOID: 23),  // int4
            .init(name: "pkt_avail", typeOID: 23),  // int4
            .init(name: "send_avail", typeOID: 23),  // int4
        ],
        "ACTIVE_SOCKETS": [
            .init(name: "type", typeOID: 25),  // text
            .init(name: "user", typeOID: 25),  // text
            .init(name: "database", typeOID: 25),  // text
            .init(name: "state", typeOID: 25),  // text
            .init(name: "addr", typeOID: 25),  // text
            .init(name: "port", typeOID: 23),  // int4
            .init(name: "local_addr", typeOID: 25),  // text
            .init(name: "local_port", typeOID: 23),  // int4
            .init(name: "connect_time", typeOID: 25),  // text
            .init(name: "request_time", typeOID: 25),  // text
            .init(name: "wait", typeOID: 23),  // int4
            .init(name: "wait_us", typeOID: 23),  // int4
            .init(name: "close_needed", typeOID: 23),  // int4
            .init(name: "ptr", typeOID: 25),  // text
            .init(name: "link", typeOID: 25),  // text
            .init(name: "remote_pid", typeOID: 23),  // int4
            .init(name: "tls", typeOID: 25),  // text
            .init(name: "application_name", typeOID: 25),  // text
            .init(name: "recv_pos", typeOID: 23),  // int4
            .init(name: "pkt_pos", typeOID: 23),  // int4
            .init(name: "pkt_remain", typeOID: 23),  // int4
            .init(name: "send_pos", typeOID: 23),  // int4
            .init(name: "send_remain", typeOID: 23),  // int4
            .init(name: "pkt_avail", typeOID: 23),  // int4
            .init(name: "send_avail", typeOID: 23),  // int4
        ],
        "TOTALS": [
            .init(name: "name", typeOID: 25),  // text
            .init(name: "value", typeOID: 1700),  // numeric
        ],
        // "STATE": not in 1.18 (see errors["SHOW STATE"]).
    ]

    /// CommandComplete tags. Every SHOW (including SHOW HELP) answers "SHOW". Keys are the commands as
    /// sent. "SHUTDOWN" is absent on purpose: it answers nothing (the connection closes).
    static let commandTags: [String: String] = [
        "SHOW POOLS": "SHOW",
        "SHOW CLIENTS": "SHOW",
        "SHOW SERVERS": "SHOW",
        "SHOW STATS": "SHOW",
        "SHOW STATS_TOTALS": "SHOW",
        "SHOW STATS_AVERAGES": "SHOW",
        "SHOW DATABASES": "SHOW",
        "SHOW USERS": "SHOW",
        "SHOW CONFIG": "SHOW",
        "SHOW LISTS": "SHOW",
        "SHOW VERSION": "SHOW",
        "SHOW MEM": "SHOW",
        "SHOW FDS": "SHOW",
        "SHOW DNS_HOSTS": "SHOW",
        "SHOW DNS_ZONES": "SHOW",
        "SHOW SOCKETS": "SHOW",
        "SHOW ACTIVE_SOCKETS": "SHOW",
        "SHOW TOTALS": "SHOW",
        "SHOW HELP": "SHOW",
        "PAUSE": "PAUSE",
        "PAUSE db": "PAUSE",
        "RESUME": "RESUME",
        "RESUME db": "RESUME",
        "SUSPEND": "SUSPEND",
        "DISABLE db": "DISABLE",
        "ENABLE db": "ENABLE",
        "RECONNECT": "RECONNECT",
        "RECONNECT db": "RECONNECT",
        "WAIT_CLOSE": "WAIT_CLOSE",
        "WAIT_CLOSE db": "WAIT_CLOSE",
        "RELOAD": "RELOAD",
        "KILL db": "KILL",
        "SET default_pool_size = 21": "SET default_pool_size=21",
        "SET listen_port = 1": "SET listen_port=1",
    ]

    /// The NOTICE sent by SHOW HELP (severity NOTICE, SQLSTATE 00000, message, detail), before tag "SHOW".
    static let helpNotice: (sqlState: String, message: String, detail: String) = (
        sqlState: "00000", message: "Console usage",
        detail: "\n\tSHOW HELP|CONFIG|DATABASES|POOLS|CLIENTS|SERVERS|USERS|VERSION\n\tSHOW FDS|SOCKETS|ACTIVE_SOCKETS|LISTS|MEM\n\tSHOW DNS_HOSTS|DNS_ZONES\n\tSHOW STATS|STATS_TOTALS|STATS_AVERAGES|TOTALS\n\tSET key = arg\n\tRELOAD\n\tPAUSE [<db>]\n\tRESUME [<db>]\n\tDISABLE <db>\n\tENABLE <db>\n\tRECONNECT [<db>]\n\tKILL <db>\n\tSUSPEND\n\tSHUTDOWN\n\tWAIT_CLOSE [<db>]"
    )

    /// Sample rows (values as text, nil for NULL), for format reference. POOLS / CLIENTS / SERVERS /
    /// SOCKETS were taken while client bob (port 58462) was active in `SELECT pg_sleep(8)`;
    /// CONFIG lists only its first rows.
    static let sampleRows: [String: [[String?]]] = [
        "POOLS": [
            ["db", "postgres", "2", "0", "0", "0", "2", "0", "0", "0", "0", "0", "0", "0", "0", "session"],
            ["pgbouncer", "pgbouncer", "1", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "statement"],
        ],
        "CLIENTS": [
            ["C", "stats", "db", "active", "127.0.0.1", "58460", "127.0.0.1", "26432", "2026-11-26 23:38:32 UTC", "2026-11-26 23:38:32 UTC", "0", "0", "0", "0x55a6d4f38870", "0x55a6d4f43ba0", "0", "", "probe"],
            ["C", "bob", "db", "active", "127.0.0.1", "58462", "127.0.0.1", "26432", "2026-11-26 23:38:32 UTC", "2026-11-26 23:38:32 UTC", "1", "501818", "0", "0x55a6d4f38ad0", "0x55a6d4f43e00", "0", "", "probe"],
            ["C", "admin", "pgbouncer", "active", "127.0.0.1", "58478", "127.0.0.1", "26432", "2026-11-26 23:38:33 UTC", "2026-11-26 23:38:33 UTC", "0", "116", "0", "0x55a6d4f38d30", "", "0", "", "probe"],
        ],
        "SERVERS": [
            ["S", "postgres", "db", "active", "127.0.0.1", "22939", "127.0.0.1", "33208", "2026-11-26 23:38:32 UTC", "2026-11-26 23:38:32 UTC", "0", "0", "0", "0x55a6d4f43ba0", "0x55a6d4f38870", "17603", "", "probe"],
            ["S", "postgres", "db", "active", "127.0.0.1", "22939", "127.0.0.1", "33218", "2026-11-26 23:38:32 UTC", "2026-11-26 23:38:32 UTC", "0", "0", "0", "0x55a6d4f43e00", "0x55a6d4f38ad0", "17604", "", "probe"],
        ],
        "SOCKETS": [
            ["C", "stats", "db", "cl_active", "127.0.0.1", "58460", "127.0.0.1", "26432", "2026-11-26 23:38:32 UTC", "2026-11-26 23:38:32 UTC", "0", "0", "0", "0x55a6d4f38870", "0x55a6d4f43ba0", "0", "", "probe", "0", "0", "0", "0", "0", "0", "0"],
            ["C", "bob", "db", "cl_active", "127.0.0.1", "58462", "127.0.0.1", "26432", "2026-11-26 23:38:32 UTC", "2026-11-26 23:38:32 UTC", "1", "502557", "0", "0x55a6d4f38ad0", "0x55a6d4f43e00", "0", "", "probe", "0", "0", "0", "0", "0", "0", "0"],
            ["S", "postgres", "db", "sv_active", "127.0.0.1", "22939", "127.0.0.1", "33208", "2026-11-26 23:38:32 UTC", "2026-11-26 23:38:32 UTC", "0", "0", "0", "0x55a6d4f43ba0", "0x55a6d4f38870", "17603", "", "probe", "0", "0", "0", "0", "0", "0", "0"],
            ["S", "postgres", "db", "sv_active", "127.0.0.1", "22939", "127.0.0.1", "33218", "2026-11-26 23:38:32 UTC", "2026-11-26 23:38:32 UTC", "0", "0", "0", "0x55a6d4f43e00", "0x55a6d4f38ad0", "17604", "", "probe", "0", "0", "0", "0", "0", "0", "0"],
            ["C", "admin", "pgbouncer", "cl_active", "127.0.0.1", "58478", "127.0.0.1", "26432", "2026-11-26 23:38:33 UTC", "2026-11-26 23:38:33 UTC", "0", "855", "0", "0x55a6d4f38d30", "", "0", "", "probe", "18", "0", "0", "0", "0", "18", "0"],
        ],
        "ACTIVE_SOCKETS": [
            ["C", "admin", "pgbouncer", "cl_active", "127.0.0.1", "58478", "127.0.0.1", "26432", "2026-11-26 23:38:33 UTC", "2026-11-26 23:38:33 UTC", "0", "1056", "0", "0x55a6d4f38d30", "", "0", "", "probe", "25", "0", "0", "0", "0", "25", "0"],
        ],
        "STATS": [
            ["db", "2", "2", "38", "152", "1108", "1108", "13814", "0", "0", "2", "10", "554", "554", "912"],
            ["pgbouncer", "2", "2", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0"],
        ],
        "STATS_TOTALS": [
            ["db", "2", "2", "38", "152", "1108", "1108", "13814"],
            ["pgbouncer", "2", "2", "0", "0", "0", "0", "0"],
        ],
        "STATS_AVERAGES": [
            ["db", "0", "0", "2", "10", "554", "554", "912"],
            ["pgbouncer", "0", "0", "0", "0", "0", "0", "0"],
        ],
        "TOTALS": [
            ["total_xact_count", "4"],
            ["total_query_count", "4"],
            ["total_client_bytes", "38"],
            ["total_server_bytes", "152"],
            ["total_xact_time", "1108"],
            ["total_query_time", "1108"],
            ["total_wait_time", "13814"],
            ["avg_xact_count", "0"],
            ["avg_query_count", "0"],
            ["avg_client_bytes", "2"],
            ["avg_server_bytes", "10"],
            ["avg_xact_time", "277"],
            ["avg_query_time", "277"],
            ["avg_wait_time", "912"],
        ],
        "DATABASES": [
            ["db", "127.0.0.1", "22939", "postgres", "postgres", "20", "0", "0", nil, "0", "2", "0", "0"],
            ["pgbouncer", nil, "26432", "pgbouncer", "pgbouncer", "2", "0", "0", "statement", "0", "0", "0", "0"],
        ],
        "USERS": [
            ["admin", nil],
            ["bob", nil],
            ["pgbouncer", nil],
            ["stats", nil],
        ],
        "CONFIG": [
            ["admin_users", "admin", "", "yes"],
            ["application_name_add_host", "0", "0", "yes"],
            ["auth_file", "/tmp/pgb.aPllhf/userlist.txt", nil, "yes"],
            ["auth_hba_file", "", "", "yes"],
            ["auth_query", "SELECT rolname, CASE WHEN rolvaliduntil < now() THEN NULL ELSE rolpassword END FROM pg_authid WHERE rolname=$1 AND rolcanlogin", "SELECT rolname, CASE WHEN rolvaliduntil < now() THEN NULL ELSE rolpassword END FROM pg_authid WHERE rolname=$1 AND rolcanlogin", "yes"],
            ["auth_type", "md5", "md5", "yes"],
        ],
        "LISTS": [
            ["databases", "2"],
            ["users", "4"],
            ["pools", "2"],
            ["free_clients", "47"],
            ["used_clients", "3"],
            ["login_clients", "0"],
            ["free_servers", "48"],
            ["used_servers", "2"],
            ["dns_names", "0"],
            ["dns_zones", "0"],
            ["dns_queries", "0"],
            ["dns_pending", "0"],
        ],
        "VERSION": [
            ["PgBouncer 1.18.0"],
        ],
        "MEM": [
            ["user_cache", "2312", "6", "44", "115600"],
            ["db_cache", "208", "2", "76", "16224"],
            ["pool_cache", "552", "2", "48", "27600"],
            ["server_cache", "608", "2", "48", "30400"],
            ["client_cache", "608", "3", "47", "30400"],
            ["iobuf_cache", "4112", "1", "49", "205600"],
        ],
        "FDS": [
            ["7", "pooler", nil, nil, "127.0.0.1", "26432", "0", "0", nil, nil, nil, nil, nil, nil, nil],
            ["8", "pooler", nil, nil, "unix", "26432", "0", "0", nil, nil, nil, nil, nil, nil, nil],
            ["9", "client", "stats", "db", "127.0.0.1", "58460", "1157979335003672254", "12", "UTF8", "on", "ISO, MDY", "Etc/UTC", nil, nil, nil],
            ["11", "client", "bob", "db", "127.0.0.1", "58462", "9168538087638038258", "13", "UTF8", "on", "ISO, MDY", "Etc/UTC", nil, nil, nil],
            ["12", "server", "postgres", "db", "127.0.0.1", "22939", "75606362564584", "9", "UTF8", "on", "ISO, MDY", "Etc/UTC", nil, nil, nil],
            ["13", "server", "postgres", "db", "127.0.0.1", "22939", "75610696458314", "11", "UTF8", "on", "ISO, MDY", "Etc/UTC", nil, nil, nil],
        ],
        "DNS_HOSTS": [],
        "DNS_ZONES": [],
    ]

    /// Errors: command (or situation) -> (sqlstate, message). Severity is ERROR (the connection stays
    /// usable) except for the keys in `fatalErrors`, which are FATAL and close the connection.
    /// Keys starting with "stats: " were sent by a stats_users member; other commands by the admin.
    static let errors: [String: (sqlState: String, message: String)] = [
        "SHOW FOO": (sqlState: "08P01", message: "invalid command 'SHOW FOO', use SHOW HELP;"),
        "FOO": (sqlState: "08P01", message: "invalid command 'FOO', use SHOW HELP;"),
        "SHOW STATE": (sqlState: "08P01", message: "invalid command 'SHOW STATE', use SHOW HELP;"),
        "SHOW": (sqlState: "08P01", message: "invalid command 'SHOW', use SHOW HELP;"),
        "SELECT 1": (sqlState: "08P01", message: "invalid command 'SELECT 1', use SHOW HELP;"),
        "BEGIN": (sqlState: "08P01", message: "invalid command 'BEGIN', use SHOW HELP;"),
        "": (sqlState: "08P01", message: "invalid command '', use SHOW HELP;"),
        ";": (sqlState: "08P01", message: "invalid command ';', use SHOW HELP;"),
        "SHOW POOLS db": (sqlState: "08P01", message: "invalid command 'SHOW POOLS db', use SHOW HELP;"),
        "SHOW POOLS; SHOW VERSION": (sqlState: "08P01", message: "invalid command 'SHOW POOLS; SHOW VERSION', use SHOW HELP;"),
        "PAUSE nosuchdb": (sqlState: "08P01", message: "no such database: nosuchdb"),
        "KILL nosuchdb": (sqlState: "08P01", message: "no such database: nosuchdb"),
        "KILL": (sqlState: "08P01", message: "a database is required"),
        "DISABLE": (sqlState: "08P01", message: "a database is required"),
        "ENABLE": (sqlState: "08P01", message: "a database is required"),
        "SET default_pool_size = 'x'": (sqlState: "08P01", message: "SET failed"),
        "SET nosuch = 1": (sqlState: "08P01", message: "SET failed"),
        "RESUME (when not paused)": (sqlState: "08P01", message: "pooler is not paused/suspended"),
        "stats: SHOW FDS": (sqlState: "08P01", message: "admin access needed"),
        "stats: PAUSE": (sqlState: "08P01", message: "admin access needed"),
        "stats: RELOAD": (sqlState: "08P01", message: "admin access needed"),
        "stats: SET default_pool_size = 20": (sqlState: "08P01", message: "admin access needed"),
        "stats: SHUTDOWN": (sqlState: "08P01", message: "admin access needed"),
        "login: non-admin user to database pgbouncer": (sqlState: "08P01", message: "not allowed"),
        "login: wrong password": (sqlState: "08P01", message: "password authentication failed"),
        "login: unknown user": (sqlState: "08P01", message: "password authentication failed"),
        "login: unknown database": (sqlState: "08P01", message: "no such database: nosuchdb"),
        "query after KILL of its database": (sqlState: "08P01", message: "database removed"),
    ]

    /// Keys of `errors` whose ErrorResponse has severity FATAL (and after which the server closes the connection).
    static let fatalErrors: Set<String> = [
        "login: non-admin user to database pgbouncer",
        "login: wrong password",
        "login: unknown user",
        "login: unknown database",
        "query after KILL of its database",
    ]
}
