/// Backend message type bytes the pooler looks at.
enum BackendType {
    static let readyForQuery = UInt8(ascii: "Z")
    static let copyInResponse = UInt8(ascii: "G")
    static let copyBothResponse = UInt8(ascii: "W")
    static let parameterStatus = UInt8(ascii: "S")
    static let errorResponse = UInt8(ascii: "E")
    static let dataRow = UInt8(ascii: "D")
}
