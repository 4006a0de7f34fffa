import NIOCore

/// Helpers shared by the codecs: message framing on write, strict reads that turn short input into `WireError`.
extension ByteBuffer {
    /// Writes one typed message: Byte1 type, Int32 length (counting itself and the body, not the type), body.
    mutating func writeMessage(type: MessageType, body: (inout ByteBuffer) -> Void) {
        self.writeInteger(type.rawValue)
        let lengthIndex = self.writerIndex
        self.writeInteger(Int32(0))  // Int32: length, patched below once the body is written
        body(&self)
        self.setInteger(Int32(self.writerIndex - lengthIndex), at: lengthIndex)
    }

    /// Writes a String as the protocol's C string: its UTF-8 bytes and a terminating zero byte.
    ///
    /// Protocol strings cannot hold a zero byte; one inside `string` would end it early and put the peer out of step
    /// with the stream, so the string is cut there instead.
    mutating func writeCString(_ string: String) {
        if let end = string.utf8.firstIndex(of: 0) {
            self.writeBytes(string.utf8[..<end])
        } else {
            self.writeString(string)
        }
        self.writeInteger(UInt8(0))
    }

    /// Reads a C string (bytes up to a zero byte, which is consumed); throws when no zero byte follows.
    mutating func readCString(_ what: @autoclosure () -> String) throws(WireError) -> String {
        guard let string = self.readNullTerminatedString() else {
            throw .malformed("missing terminator after \(what())")
        }
        return string
    }

    /// Reads a big-endian integer; throws when fewer than its size in bytes remain.
    mutating func readWireInteger<T: FixedWidthInteger>(
        as: T.Type = T.self,
        _ what: @autoclosure () -> String
    ) throws(WireError) -> T {
        guard let value = self.readInteger(as: T.self) else {
            throw .malformed("message too short for \(what())")
        }
        return value
    }

    /// Reads exactly `length` bytes; throws when fewer remain.
    mutating func readWireBytes(length: Int, _ what: @autoclosure () -> String) throws(WireError) -> [UInt8] {
        guard length >= 0, let bytes = self.readBytes(length: length) else {
            throw .malformed("message too short for \(what())")
        }
        return bytes
    }

    /// Throws unless every byte has been read: the protocol has no padding, so leftovers mean a bad length.
    func expectEnd(of what: @autoclosure () -> String) throws(WireError) {
        guard self.readableBytes == 0 else {
            throw .malformed("\(self.readableBytes) unexpected bytes at end of \(what())")
        }
    }
}
