/// An untyped packet a client sends before any typed message: Int32 length (counting itself), Int32 request code,
/// payload.
///
/// The request code tells the kinds apart; 196608 (protocol 3.0) is a StartupMessage, and three magic codes with
/// major version 1234 are the special requests.
public enum StartupPacket: Sendable, Equatable {
    /// StartupMessage, code 196608 (protocol 3.0): the client's parameters. Next: authentication.
    case startup(StartupMessage)
    /// SSLRequest, code 80877103: the client asks for TLS. Answer one byte, 'S' or 'N', then expect a new packet.
    case sslRequest
    /// GSSENCRequest, code 80877104: the client asks for GSSAPI encryption. Answer 'N' (not supported).
    case gssEncRequest
    /// CancelRequest, code 80877102: cancel the query running on another connection; this one then closes.
    case cancel(CancelRequest)

    /// Int32 request codes as sent on the wire.
    public enum Code {
        /// 3 << 16 | 0: protocol version 3.0.
        public static let protocol3: Int32 = 196_608
        /// 1234 << 16 | 5678: CancelRequest.
        public static let cancelRequest: Int32 = 80_877_102
        /// 1234 << 16 | 5679: SSLRequest.
        public static let sslRequest: Int32 = 80_877_103
        /// 1234 << 16 | 5680: GSSENCRequest.
        public static let gssEncRequest: Int32 = 80_877_104
    }
}
