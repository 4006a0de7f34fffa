import PostgresWire
import Testing

@testable import SpillwayCore

@Suite struct ConfigUserListTests {
    static let scram =
        "SCRAM-SHA-256$4096:c2FsdHNhbHRzYWx0$PMN3vvFKN0c7QxNLhsD3SzbVJjx8QKEpMMy4KXQH6yw=:"
        + "lSK2uPImvYhb3xC5ZaDv4odfOV4q9QPqFcRX1Oo+XNM="

    /// Plain, md5 and SCRAM secrets, comments, blank lines, `""` escapes and trailing fields all parse.
    @Test func parsesSecretsCommentsAndEscapedQuotes() throws {
        let text = """
            ; userlist for the orders pooler
            # generated nightly

            "app" "plain secret"
            "md5user" "md5f0a4c7c1d5c3e3e3f3a5b6c7d8e9f0a1"
              "scram"   "\(Self.scram)"
            "quo""ted" "pa""ss"   trailing fields are ignored
            "empty" ""
            """
        let list = try UserList.parse(text, file: "userlist.txt")
        #expect(
            list.passwords == [
                "app": "plain secret",
                "md5user": "md5f0a4c7c1d5c3e3e3f3a5b6c7d8e9f0a1",
                "scram": Self.scram,
                "quo\"ted": "pa\"ss",
                "empty": "",
            ])
        #expect(list.secret(for: "app") == .plain("plain secret"))
        #expect(list.secret(for: "md5user") == .md5("md5f0a4c7c1d5c3e3e3f3a5b6c7d8e9f0a1"))
        #expect(
            list.secret(for: "scram")
                == .scram(SCRAMSecret(parsing: Self.scram)!))
        #expect(list.secret(for: "nobody") == nil)
    }

    /// Secrets that only look like md5 or SCRAM are plain passwords, as PostgreSQL treats them.
    @Test(arguments: ["md5short", "md5zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "SCRAM-SHA-256$x:salt$a:b", "SCRAM-SHA-256$"])
    func malformedSecretsArePlain(text: String) {
        #expect(StoredPassword(text) == .plain(text))
    }

    /// A later line for the same user replaces the earlier one.
    @Test func laterLineWins() throws {
        let list = try UserList.parse("\"a\" \"1\"\n\"a\" \"2\"", file: "userlist.txt")
        #expect(list.passwords == ["a": "2"])
    }

    static let badLines: [(text: String, description: String)] = [
        ("\"ok\" \"x\"\napp secret", #"userlist.txt:2: expected "user" "password""#),
        ("\"ok\" \"x\"\n\n\"app secret", "userlist.txt:3: unterminated quoted user name"),
        ("\"app\"", "userlist.txt:1: user 'app': expected a quoted password after the user name"),
        ("\"app\" secret", "userlist.txt:1: user 'app': expected a quoted password after the user name"),
        ("; c\n\"app\" \"secret", "userlist.txt:2: user 'app': unterminated quoted password"),
    ]

    /// A malformed line fails with its line number and never repeats the password.
    @Test(arguments: badLines)
    func badLineError(text: String, description: String) {
        do {
            _ = try UserList.parse(text, file: "userlist.txt")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == description)
            #expect(!error.description.contains("secret"))
        }
    }
}
