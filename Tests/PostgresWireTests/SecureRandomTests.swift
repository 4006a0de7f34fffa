import PostgresWire
import Testing

@Suite struct SecureRandomTests {
    /// The count asked for, and fresh bytes each time (two equal 32-byte draws would be a broken generator).
    @Test func givesTheCountAskedForAndFreshBytes() {
        #expect(SecureRandom.bytes(0).isEmpty)
        #expect(SecureRandom.bytes(18).count == 18)
        let first = SecureRandom.bytes(32)
        let second = SecureRandom.bytes(32)
        #expect(first.count == 32)
        #expect(first != second)
        #expect(Set(first).count > 8)
    }
}
