import NIOCore
import PostgresWire
import Testing

/// StartupDecoder: the untyped packets a client sends first.
struct StartupDecoderTests {
    /// An untyped packet: Int32 length, Int32 code, payload.
    static func packet(code: Int32, _ payload: [UInt8] = []) -> [UInt8] {
        Fixtures.int32(Int32(8 + payload.count)) + Fixtures.int32(code) + payload
    }

    /// A v3 StartupMessage with user, database and application_name.
    static let startupBytes = packet(
        code: 196_608,
        Fixtures.cString("user") + Fixtures.cString("alice") + Fixtures.cString("database")
            + Fixtures.cString("orders") + Fixtures.cString("application_name") + Fixtures.cString("nightly") + [0]
    )

    /// The parameters in `startupBytes`.
    static let startup = StartupMessage(parameters: [
        ("user", "alice"), ("database", "orders"), ("application_name", "nightly"),
    ])

    /// SSLRequest, then a StartupMessage: one byte at a time and all at once give the same two packets.
    @Test(arguments: [0, 1, 3])
    func sslRequestThenStartup(chunkSize: Int) throws {
        let bytes = Self.packet(code: 80_877_103) + Self.startupBytes
        let packets = try Fixtures.startupPackets(bytes, chunkSize: chunkSize)
        #expect(packets == [.sslRequest, .startup(Self.startup)])
    }

    /// GSSENCRequest decodes, drip-fed or not.
    @Test(arguments: [0, 1])
    func gssEncRequest(chunkSize: Int) throws {
        #expect(try Fixtures.startupPackets(Self.packet(code: 80_877_104), chunkSize: chunkSize) == [.gssEncRequest])
    }

    /// CancelRequest carries the process ID and secret key; negative keys survive.
    @Test(arguments: [0, 1])
    func cancelRequest(chunkSize: Int) throws {
        let bytes = Self.packet(code: 80_877_102, Fixtures.int32(4242) + Fixtures.int32(-7))
        let packets = try Fixtures.startupPackets(bytes, chunkSize: chunkSize)
        #expect(packets == [.cancel(CancelRequest(processID: 4242, secretKey: -7))])
    }

    /// The v3 StartupMessage keeps its parameters in order; user and database are found by name.
    @Test(arguments: [0, 1, 4])
    func startupWithParameters(chunkSize: Int) throws {
        let packets = try Fixtures.startupPackets(Self.startupBytes, chunkSize: chunkSize)
        guard case .startup(let message) = try #require(packets.first) else {
            Issue.record("expected a startup message")
            return
        }
        #expect(message == Self.startup)
        #expect(message.user == "alice")
        #expect(message.database == "orders")
        #expect(message["application_name"] == "nightly")
        #expect(message["options"] == nil)
    }

    /// A StartupMessage without a database parameter reports nil, leaving the fallback to the caller.
    @Test func databaseDefaultsToNil() {
        #expect(StartupMessage(parameters: [("user", "bob")]).database == nil)
    }

    /// Protocol 2.0 is refused as unsupported, with code 0A000.
    @Test func protocolTwoIsUnsupported() {
        #expect(throws: WireError.unsupportedProtocolVersion(major: 2, minor: 0)) {
            try Fixtures.startupPackets(Self.packet(code: 131_072, [0]))
        }
        #expect(WireError.unsupportedProtocolVersion(major: 2, minor: 0).sqlState == .featureNotSupported)
    }

    /// Protocol 3.1 is refused as unsupported too.
    @Test func protocolThreeOneIsUnsupported() {
        #expect(throws: WireError.unsupportedProtocolVersion(major: 3, minor: 1)) {
            try Fixtures.startupPackets(Self.packet(code: 196_609, [0]))
        }
    }

    /// A typed message pipelined right after the StartupMessage comes back from drain(), not as a packet.
    @Test func pipelinedBytesComeBackFromDrain() throws {
        let query = Fixtures.message(.query, Fixtures.cString("SELECT 1"))
        var decoder = StartupDecoder()
        decoder.append(Fixtures.buffer(Self.startupBytes + query))
        #expect(try decoder.next() == .startup(Self.startup))
        let drained = decoder.drain()
        let rest = try #require(drained)
        #expect(Array(rest.readableBytesView) == query)
        #expect(decoder.drain() == nil)
    }

    /// Lengths below 8, negative or over the limit are refused as soon as the length is in.
    @Test(arguments: [Int32(0), 7, -1, 10_001])
    func invalidLengths(length: Int32) {
        var decoder = StartupDecoder()
        decoder.append(Fixtures.buffer(Fixtures.int32(length)))
        #expect(throws: WireError.invalidLength(length, type: MessageType(rawValue: 0))) { try decoder.next() }
    }

    /// An incomplete packet yields nil until its last byte.
    @Test func incompletePacketWaits() throws {
        var decoder = StartupDecoder()
        decoder.append(Fixtures.buffer(Array(Self.startupBytes.dropLast())))
        #expect(try decoder.next() == nil)
        decoder.append(Fixtures.buffer([0]))
        #expect(try decoder.next() == .startup(Self.startup))
    }

    /// A StartupMessage missing its final terminator, with a name but no value, or with bytes after the terminator
    /// is malformed.
    @Test(arguments: [
        Fixtures.cString("user") + Fixtures.cString("alice"),
        Fixtures.cString("user") + Fixtures.cString("alice") + Fixtures.cString("database") + [0],
        Fixtures.cString("user") + Array("alice".utf8),
        Fixtures.cString("user") + Fixtures.cString("alice") + [0, 0],
    ])
    func malformedStartupBodies(payload: [UInt8]) {
        #expect(throws: WireError.self) { try Fixtures.startupPackets(Self.packet(code: 196_608, payload)) }
        do {
            _ = try Fixtures.startupPackets(Self.packet(code: 196_608, payload))
        } catch {
            guard case .malformed = error else {
                Issue.record("expected malformed, got \(error)")
                return
            }
            #expect(error.sqlState == .protocolViolation)
        }
    }

    /// Special requests with a payload of the wrong size are malformed.
    @Test func specialRequestsOfWrongSize() {
        #expect(throws: WireError.self) { try Fixtures.startupPackets(Self.packet(code: 80_877_103, [0])) }
        #expect(throws: WireError.self) { try Fixtures.startupPackets(Self.packet(code: 80_877_102, [0, 0, 0, 1])) }
    }

    /// StartupMessage encodes to the exact bytes it decodes from.
    @Test func startupMessageRoundTrip() throws {
        let encoded = Fixtures.encoded { Self.startup.encode(into: &$0) }
        #expect(Array(encoded.readableBytesView) == Self.startupBytes)
        #expect(try Fixtures.startupPackets(Self.startupBytes) == [.startup(Self.startup)])
    }

    /// An empty StartupMessage is just length, version and the terminator.
    @Test func emptyStartupMessageRoundTrip() throws {
        let encoded = Fixtures.encoded { StartupMessage(parameters: []).encode(into: &$0) }
        #expect(Array(encoded.readableBytesView) == Self.packet(code: 196_608, [0]))
        let packets = try Fixtures.startupPackets(Self.packet(code: 196_608, [0]))
        #expect(packets == [.startup(StartupMessage(parameters: []))])
    }

    /// CancelRequest encodes to 16 bytes and decodes back.
    @Test func cancelRequestRoundTrip() throws {
        let key = CancelRequest(processID: Int32.max, secretKey: Int32.min)
        let encoded = Fixtures.encoded { key.encode(into: &$0) }
        #expect(encoded.readableBytes == 16)
        #expect(try Fixtures.startupPackets(Array(encoded.readableBytesView)) == [.cancel(key)])
    }
}
