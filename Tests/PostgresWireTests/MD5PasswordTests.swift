import PostgresWire
import Testing

/// MD5Password: PostgreSQL's md5 stored hash and salted response.
struct MD5PasswordTests {
    /// storedHash is "md5" + md5("secretpostgres"), as `printf 'secretpostgres' | md5sum` prints.
    @Test func storedHashMatchesMD5Sum() {
        #expect(MD5Password.storedHash(user: "postgres", password: "secret") == "md553f48b7c4b76a86ce72276c5755f217d")
    }

    /// storedHash matches what PostgreSQL 15 stored for `CREATE ROLE bob PASSWORD 'secret'` with md5 encryption.
    @Test func storedHashMatchesPostgreSQL() {
        #expect(MD5Password.storedHash(user: "bob", password: "secret") == "md521f3163f8f86fa10bdefbfbd502a8f06")
    }

    /// The response to salt 01 02 03 04 and DE AD BE EF matches md5(hex + salt) computed with Python's hashlib.
    @Test func responseMatchesHandComputed() {
        let stored = "md553f48b7c4b76a86ce72276c5755f217d"
        #expect(MD5Password.response(storedHash: stored, salt: [1, 2, 3, 4]) == "md5bb41a296aab6baccb36ff243a562abff")
        #expect(
            MD5Password.response(user: "postgres", password: "secret", salt: [0xDE, 0xAD, 0xBE, 0xEF])
                == "md5c546d0bbed2af888b328536b45c76348"
        )
    }

    /// isStoredHash accepts only "md5" and 32 lowercase hex digits.
    @Test func recognizesStoredHashes() {
        #expect(MD5Password.isStoredHash("md553f48b7c4b76a86ce72276c5755f217d"))
        #expect(!MD5Password.isStoredHash("md553F48B7C4B76A86CE72276C5755F217D"))
        #expect(!MD5Password.isStoredHash("md553f48b7c4b76a86ce72276c5755f217"))
        #expect(!MD5Password.isStoredHash("secret"))
        #expect(!MD5Password.isStoredHash("SCRAM-SHA-256$4096:abc$def:ghi"))
    }
}
