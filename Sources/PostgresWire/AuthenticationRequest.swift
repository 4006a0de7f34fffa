import NIOCore

/// The body of an Authentication message (`'R'`): Int32 code, then code-specific data.
public enum AuthenticationRequest: Sendable, Equatable {
    /// AuthenticationOk, code 0: the login succeeded. Next: ParameterStatus, BackendKeyData, ReadyForQuery.
    case ok
    /// AuthenticationCleartextPassword, code 3: send the password in a PasswordMessage.
    case cleartextPassword
    /// AuthenticationMD5Password, code 5: send md5 of the stored hash and these 4 salt bytes.
    case md5Password(salt: [UInt8])
    /// AuthenticationSASL, code 10: pick one of these mechanisms (a list of strings ending with an empty one).
    case sasl(mechanisms: [String])
    /// AuthenticationSASLContinue, code 11: the server-first-message.
    case saslContinue(data: [UInt8])
    /// AuthenticationSASLFinal, code 12: the server-final-message.
    case saslFinal(data: [UInt8])
    /// Any other code (2 Kerberos V5, 7 GSS, 8 GSS continue, 9 SSPI): unsupported; data after the code is dropped.
    case other(code: Int32)

    /// Decodes the body of an `'R'` message.
    init(body: ByteBuffer) throws(WireError) {
        var body = body
        let code: Int32 = try body.readWireInteger("authentication code")  // Int32: authentication request code
        switch code {
        case 0:
            self = .ok
        case 3:
            self = .cleartextPassword
        case 5:
            self = .md5Password(salt: try body.readWireBytes(length: 4, "md5 salt"))  // Byte4: salt
        case 10:
            var mechanisms: [String] = []
            while true {
                let mechanism = try body.readCString("sasl mechanism name")  // String: mechanism; "" ends the list
                if mechanism.isEmpty {
                    break
                }
                mechanisms.append(mechanism)
            }
            self = .sasl(mechanisms: mechanisms)
        case 11:
            self = .saslContinue(data: body.readBytes(length: body.readableBytes)!)  // Byten: SASL data
        case 12:
            self = .saslFinal(data: body.readBytes(length: body.readableBytes)!)  // Byten: SASL outcome data
        default:
            self = .other(code: code)
            return  // GSS and SSPI carry data Spillway does not interpret
        }
        try body.expectEnd(of: "authentication request")
    }

    /// Writes the body of an `'R'` message.
    func encodeBody(into body: inout ByteBuffer) {
        switch self {
        case .ok:
            body.writeInteger(Int32(0))  // Int32: 0 = AuthenticationOk
        case .cleartextPassword:
            body.writeInteger(Int32(3))  // Int32: 3 = AuthenticationCleartextPassword
        case .md5Password(let salt):
            body.writeInteger(Int32(5))  // Int32: 5 = AuthenticationMD5Password
            body.writeBytes(salt)  // Byte4: salt
        case .sasl(let mechanisms):
            body.writeInteger(Int32(10))  // Int32: 10 = AuthenticationSASL
            for mechanism in mechanisms {
                body.writeCString(mechanism)  // String: mechanism name
            }
            body.writeInteger(UInt8(0))  // Byte1: end of the list
        case .saslContinue(let data):
            body.writeInteger(Int32(11))  // Int32: 11 = AuthenticationSASLContinue
            body.writeBytes(data)  // Byten: SASL data
        case .saslFinal(let data):
            body.writeInteger(Int32(12))  // Int32: 12 = AuthenticationSASLFinal
            body.writeBytes(data)  // Byten: SASL outcome data
        case .other(let code):
            body.writeInteger(code)  // Int32: authentication request code
        }
    }
}
