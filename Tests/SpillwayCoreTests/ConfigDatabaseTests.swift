import Testing

@testable import SpillwayCore

@Suite struct ConfigDatabaseTests {
    /// An exact alias wins; any other name falls back to `*` with that name as alias and server database.
    @Test func starFallbackInDatabaseNamed() throws {
        let config = try Config.parse(
            """
            [databases]
            orders = host=10.0.0.5 dbname=orders_prod
            * = host=10.0.0.9 port=5433 pool_size=4
            """, file: "spillway.ini")
        #expect(config.database(named: "orders")?.dbname == "orders_prod")
        #expect(config.database(named: "orders")?.host == "10.0.0.5")
        #expect(
            config.database(named: "billing")
                == DatabaseConfig(name: "billing", host: "10.0.0.9", port: 5433, dbname: "billing", poolSize: 4))
        #expect(config.database(named: "billing")?.serverDatabaseName == "billing")
    }

    /// Without `*`, an unknown database name finds nothing.
    @Test func unknownDatabaseWithoutStarIsNil() throws {
        let config = try Config.parse("[databases]\norders = host=x", file: "spillway.ini")
        #expect(config.database(named: "billing") == nil)
        #expect(config.database(named: "Orders") == nil)  // aliases are case-sensitive, as in PgBouncer
    }

    /// A `dbname` on the `*` line routes every unlisted name to that database, as PgBouncer does.
    @Test func starWithDbnameKeepsIt() throws {
        let config = try Config.parse("[databases]\n* = dbname=shared", file: "spillway.ini")
        #expect(config.database(named: "anything")?.name == "anything")
        #expect(config.database(named: "anything")?.dbname == "shared")
    }

    /// Without `host`, the alias stays nil as written and the server host reads 127.0.0.1.
    @Test func missingHostAndDbnameDefaults() throws {
        let config = try Config.parse("[databases]\napp =", file: "spillway.ini")
        let app = try #require(config.database(named: "app"))
        #expect(app == DatabaseConfig(name: "app"))
        #expect(app.host == nil)
        #expect(app.serverHost == "127.0.0.1")
        #expect(app.port == 5432)
        #expect(app.serverDatabaseName == "app")
    }

    /// Pool mode and size: the `[users]` line wins over the database, which wins over `[pgbouncer]`.
    @Test func perUserAndPerDatabasePoolPrecedence() throws {
        let config = try Config.parse(
            """
            [databases]
            orders = pool_mode=transaction pool_size=30
            plain =
            [users]
            nightly = pool_mode=statement pool_size=5
            modeonly = pool_mode=session
            [pgbouncer]
            pool_mode = session
            default_pool_size = 20
            """, file: "spillway.ini")
        let orders = try #require(config.database(named: "orders"))
        let plain = try #require(config.database(named: "plain"))

        #expect(config.poolMode(database: orders, user: "nightly") == .statement)
        #expect(config.poolSize(database: orders, user: "nightly") == 5)
        #expect(config.poolMode(database: orders, user: "web") == .transaction)
        #expect(config.poolSize(database: orders, user: "web") == 30)
        #expect(config.poolMode(database: plain, user: "web") == .session)
        #expect(config.poolSize(database: plain, user: "web") == 20)
        #expect(config.poolMode(database: orders, user: "modeonly") == .session)
        #expect(config.poolSize(database: orders, user: "modeonly") == 30)
        #expect(config.poolSize(database: plain, user: "nightly") == 5)
    }

    /// Connection limits and min/reserve pool sizes fall back to the globals; 0 on a database or user inherits.
    @Test func limitsFallBackToGlobals() throws {
        let config = try Config.parse(
            """
            [databases]
            big = max_db_connections=50 min_pool_size=3 reserve_pool=2
            zero = max_db_connections=0
            [users]
            capped = max_user_connections=7
            zero = max_user_connections=0
            [pgbouncer]
            max_db_connections = 80
            max_user_connections = 40
            min_pool_size = 1
            reserve_pool_size = 4
            """, file: "spillway.ini")
        let big = try #require(config.database(named: "big"))
        let zero = try #require(config.database(named: "zero"))
        #expect(config.maxDBConnections(database: big) == 50)
        #expect(config.maxDBConnections(database: zero) == 80)
        #expect(config.minPoolSize(database: big) == 3)
        #expect(config.minPoolSize(database: zero) == 1)
        #expect(config.reservePoolSize(database: big) == 2)
        #expect(config.reservePoolSize(database: zero) == 4)
        #expect(config.maxUserConnections(user: "capped") == 7)
        #expect(config.maxUserConnections(user: "zero") == 40)
        #expect(config.maxUserConnections(user: "other") == 40)
    }

    /// Quoted values keep spaces; `\'` and `''` are quotes, `\\` a backslash, other backslashes stay.
    @Test func connectionStringQuoting() throws {
        let config = try Config.parse(
            #"""
            [databases]
            a = connect_query='SELECT ''x'', 1' password='it\'s' application_name = 'my app'
            b = password='back\\slash\n' user=plain\text host = db.internal  port= 6000
            c = password='' timezone='Europe/Paris' datestyle='ISO, MDY' client_encoding=UTF8
            "my db" = dbname=mine
            """#, file: "spillway.ini")
        let a = try #require(config.databases["a"])
        #expect(a.connectQuery == "SELECT 'x', 1")
        #expect(a.password == "it's")
        #expect(a.applicationName == "my app")
        let b = try #require(config.databases["b"])
        #expect(b.password == #"back\slash\n"#)
        #expect(b.user == #"plain\text"#)
        #expect(b.host == "db.internal")
        #expect(b.port == 6000)
        let c = try #require(config.databases["c"])
        #expect(c.password == "")
        #expect(c.timezone == "Europe/Paris")
        #expect(c.datestyle == "ISO, MDY")
        #expect(c.clientEncoding == "UTF8")
        #expect(config.databases["my db"]?.dbname == "mine")
    }

    /// Connection-string keys are case-insensitive; the client-connection limits and `reserve_pool_size` are read.
    @Test func connectionStringKeysAndClientLimits() throws {
        let config = try Config.parse(
            """
            [databases]
            orders = HOST=x Pool_Mode=transaction max_db_client_connections=7 reserve_pool_size=2
            [users]
            nightly = max_user_client_connections=3
            """, file: "spillway.ini")
        #expect(
            config.databases["orders"]
                == DatabaseConfig(
                    name: "orders", host: "x", reservePool: 2, poolMode: .transaction, maxDBClientConnections: 7))
        #expect(config.users["nightly"] == UserConfig(name: "nightly", maxUserClientConnections: 3))
    }

    /// A PgBouncer-only key Spillway does not implement is refused with file, line and key, in both sections.
    @Test(arguments: [
        ("[databases]\norders = host=x auth_user=lookup", "orders", "auth_user"),
        ("[databases]\norders = host=x load_balance_hosts=disable", "orders", "load_balance_hosts"),
        ("[users]\nnightly = client_idle_timeout=30", "nightly", "client_idle_timeout"),
    ])
    func unsupportedConnectionStringKeysAreRefused(text: String, key: String, parameter: String) {
        do {
            _ = try Config.parse(text, file: "spillway.ini")
            Issue.record("\(parameter) was accepted")
        } catch {
            #expect(error.diagnostic.file == "spillway.ini")
            #expect(error.diagnostic.line == 2)
            #expect(error.diagnostic.key == key)
            #expect(error.diagnostic.message.contains("\(parameter) = "), "\(error.diagnostic.message)")
            #expect(error.diagnostic.message.contains("not supported yet"), "\(error.diagnostic.message)")
        }
    }
}
