import NIOCore

/// The body of an ErrorResponse (`'E'`) or NoticeResponse (`'N'`): a list of typed fields, in wire order.
///
/// Body: repeated { Byte1 field type; String value }, then Byte1 0. Unknown field types are kept, as the protocol
/// asks receivers to ignore (and a pooler to pass on) fields it does not know.
public struct ErrorResponse: Sendable, Equatable {
    /// The severity a message is sent with; `'V'` holds it unlocalized, `'S'` possibly translated.
    public enum Severity: String, Sendable {
        /// The command failed; the session goes on.
        case error = "ERROR"
        /// The session ends; the sender closes the connection.
        case fatal = "FATAL"
        /// The whole server stops.
        case panic = "PANIC"
        /// A notice: something may be wrong.
        case warning = "WARNING"
        /// A notice: for the user's information.
        case notice = "NOTICE"
        /// A notice: debugging output.
        case debug = "DEBUG"
        /// A notice: requested information (VACUUM VERBOSE).
        case info = "INFO"
        /// A notice: server log output sent to the client.
        case log = "LOG"
    }

    /// All fields in wire order, keyed by the protocol's field type byte
    /// ('S','V','C','M','D','H','P','p','q','W','s','t','c','d','n','F','L','R').
    public var fields: [(type: UInt8, value: String)]

    /// Field type bytes, as named in "Error and Notice Message Fields".
    public enum Field {
        /// 'S': severity, possibly localized.
        public static let localizedSeverity = UInt8(ascii: "S")
        /// 'V': severity, never localized (PostgreSQL 9.6+).
        public static let severity = UInt8(ascii: "V")
        /// 'C': SQLSTATE code.
        public static let code = UInt8(ascii: "C")
        /// 'M': primary human-readable message.
        public static let message = UInt8(ascii: "M")
        /// 'D': optional detail.
        public static let detail = UInt8(ascii: "D")
        /// 'H': optional hint.
        public static let hint = UInt8(ascii: "H")
    }

    /// Wraps fields as they are, in order.
    public init(fields: [(type: UInt8, value: String)]) {
        self.fields = fields
    }

    /// Builds the message Spillway sends: S and V (severity), C, M, then D and H when given.
    public init(severity: Severity, code: SQLState, message: String, detail: String? = nil, hint: String? = nil) {
        var fields: [(type: UInt8, value: String)] = [
            (Field.localizedSeverity, severity.rawValue),
            (Field.severity, severity.rawValue),
            (Field.code, code.rawValue),
            (Field.message, message),
        ]
        if let detail {
            fields.append((Field.detail, detail))
        }
        if let hint {
            fields.append((Field.hint, hint))
        }
        self.fields = fields
    }

    /// The value of the first field of this type, or nil. Setting replaces that field, or appends one; nil removes
    /// every field of the type.
    public subscript(field: UInt8) -> String? {
        get {
            self.fields.first(where: { $0.type == field })?.value
        }
        set {
            guard let newValue else {
                self.fields.removeAll(where: { $0.type == field })
                return
            }
            if let index = self.fields.firstIndex(where: { $0.type == field }) {
                self.fields[index].value = newValue
            } else {
                self.fields.append((field, newValue))
            }
        }
    }

    /// The unlocalized severity ('V') if present, else the possibly localized one ('S').
    public var severity: String? { self[Field.severity] ?? self[Field.localizedSeverity] }

    /// The SQLSTATE code ('C').
    public var code: SQLState? { self[Field.code].map(SQLState.init(rawValue:)) }

    /// The primary message ('M').
    public var message: String? { self[Field.message] }

    /// The detail ('D').
    public var detail: String? { self[Field.detail] }

    /// The hint ('H').
    public var hint: String? { self[Field.hint] }

    /// Encodes the complete message as `type`: `.errorResponse` (default), or `.noticeResponse`, whose body has
    /// the same encoding.
    public func encode(into buffer: inout ByteBuffer, type: MessageType = .errorResponse) {
        buffer.writeMessage(type: type) { body in
            for field in self.fields {
                body.writeInteger(field.type)  // Byte1: field type
                body.writeCString(field.value)  // String: field value
            }
            body.writeInteger(UInt8(0))  // Byte1: terminator
        }
    }

    /// Decodes a message body (after the 5-byte header).
    public init(body: ByteBuffer) throws(WireError) {
        var body = body
        var fields: [(type: UInt8, value: String)] = []
        while true {
            let type: UInt8 = try body.readWireInteger("error field type")  // Byte1: field type, 0 ends the list
            if type == 0 {
                break
            }
            let value = try body.readCString("error field \(WireError.name(ofType: type))")  // String: field value
            fields.append((type, value))
        }
        try body.expectEnd(of: "error response")
        self.fields = fields
    }

    public static func == (lhs: ErrorResponse, rhs: ErrorResponse) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.type == $1.type && $0.value == $1.value }
    }
}

/// An ErrorResponse is also what a failed operation throws, so it can travel in `Result` unchanged.
extension ErrorResponse: Error {}
