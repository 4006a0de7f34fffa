import PostgresWire

extension Frame {
    /// The type byte as a quoted character, for messages: `'v'`.
    var typeName: String {
        let type = self.type
        guard type >= 0x21 && type <= 0x7E else { return "0x" + String(type, radix: 16) }
        return "'\(Character(Unicode.Scalar(type)))'"
    }
}
