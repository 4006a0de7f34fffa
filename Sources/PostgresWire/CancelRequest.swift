import NIOCore

/// The key that names a session for cancellation: sent by the server in BackendKeyData and by a client in a
/// CancelRequest packet (Int32 16, Int32 80877102, Int32 process ID, Int32 secret key).
public struct CancelRequest: Sendable, Equatable, Hashable {
    /// Int32: the process ID of the target backend (or the ID Spillway gave the client).
    public var processID: Int32
    /// Int32: the secret key of the target backend.
    public var secretKey: Int32

    /// Wraps a key.
    public init(processID: Int32, secretKey: Int32) {
        self.processID = processID
        self.secretKey = secretKey
    }

    /// Writes the complete CancelRequest packet, 16 bytes.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeInteger(Int32(16))  // Int32: length including itself
        buffer.writeInteger(StartupPacket.Code.cancelRequest)  // Int32: cancel request code 1234.5678
        buffer.writeInteger(self.processID)  // Int32: process ID of the target backend
        buffer.writeInteger(self.secretKey)  // Int32: secret key of the target backend
    }
}
