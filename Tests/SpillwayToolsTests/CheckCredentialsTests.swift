import PostgresWire
import SpillwayCore
import Testing

@testable import SpillwayTools

@Suite struct CheckCredentialsTests {
    static let userList = UserList(passwords: [
        "app": "app_pass",
        "hashed": MD5Password.storedHash(user: "hashed", password: "secret"),
    ])

    /// Resolves for `database` with the given options and environment.
    static func resolve(
        _ database: DatabaseConfig, user: String? = nil, password: String? = nil,
        environment: [String: String] = [:]
    ) -> CheckCredentials {
        CheckCredentials.resolve(
            database: database, optionUser: user, optionPassword: password, userList: userList,
            environment: environment, systemUser: "os_user")
    }

    /// --user and --password win over everything.
    @Test func optionsComeFirst() {
        let database = DatabaseConfig(name: "orders", user: "forced", password: "forced_pass")
        #expect(Self.resolve(database, user: "admin", password: "pw", environment: ["PGUSER": "env"])
            == CheckCredentials(user: "admin", password: "pw"))
    }

    /// The database's forced user= and password= come next.
    @Test func forcedUserAndPasswordComeNext() {
        let database = DatabaseConfig(name: "orders", user: "forced", password: "forced_pass")
        #expect(Self.resolve(database, environment: ["PGUSER": "env", "PGPASSWORD": "envpw"])
            == CheckCredentials(user: "forced", password: "forced_pass"))
    }

    /// Then PGUSER (else the system user) with its plain auth_file password, else PGPASSWORD.
    @Test func environmentAndAuthFileComeLast() {
        let database = DatabaseConfig(name: "orders")
        #expect(Self.resolve(database, environment: ["PGUSER": "app", "PGPASSWORD": "envpw"])
            == CheckCredentials(user: "app", password: "app_pass"))
        #expect(Self.resolve(database, environment: ["PGUSER": "nobody", "PGPASSWORD": "envpw"])
            == CheckCredentials(user: "nobody", password: "envpw"))
        #expect(Self.resolve(database) == CheckCredentials(user: "os_user", password: nil))
    }

    /// An md5 hash cannot log a client in: PGPASSWORD is used instead, and the note says why a login may fail.
    @Test func md5HashFallsBackToPGPASSWORDWithANote() {
        let credentials = Self.resolve(DatabaseConfig(name: "orders", user: "hashed"), environment: ["PGPASSWORD": "p"])
        #expect(credentials.user == "hashed")
        #expect(credentials.password == "p")
        #expect(credentials.note?.contains("md5 hash") == true)
        let failure = Check.loginFailure(
            WireClientError.authentication("the server asks for a password and none was given"),
            database: DatabaseConfig(name: "orders"), credentials: credentials)
        #expect(failure.contains("md5 hash for 'hashed'"), "\(failure)")
    }
}
