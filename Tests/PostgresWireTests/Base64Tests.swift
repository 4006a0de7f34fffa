import PostgresWire
import Testing

/// Base64: the small codec SCRAM uses instead of Foundation.
struct Base64Tests {
    /// RFC 4648 section 10 test vectors encode and decode.
    @Test(arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"), ("n,,", "biws"),
    ])
    func rfc4648Vectors(plain: String, encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    /// Every byte value survives a round trip, at every length modulo 3.
    @Test func allBytesRoundTrip() {
        let bytes = (0...255).map { UInt8($0) }
        for length in 250...256 {
            let slice = Array(bytes.prefix(length))
            #expect(Base64.decode(Base64.encode(slice)) == slice)
        }
        #expect(Base64.encode([0xFB, 0xFF]) == "+/8=")
    }

    /// Bad lengths, characters, padding and non-zero bits under padding are refused.
    @Test(arguments: ["Zg", "Zg=", "Z===", "Zg=a", "Zh==", "Zm9=", "Zg==Zg==", "Zm 9", "Zm9v\n", "====", "Zm-_"])
    func rejectsInvalidInput(text: String) {
        #expect(Base64.decode(text) == nil)
    }
}
