import Crypto
import _CryptoExtras

/// SCRAM-SHA-256 primitives (RFC 5802 section 3, RFC 7677) shared by `SCRAMSecret`, `SCRAMServer` and `SCRAMClient`.
enum SCRAM {
    /// The SASL mechanism name, as listed in AuthenticationSASL.
    static let mechanism = "SCRAM-SHA-256"

    /// HMAC(key, data) with SHA-256.
    static func hmac(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        let code = HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: key))
        return code.withUnsafeBytes { Array($0) }
    }

    /// H(data): SHA-256.
    static func hash(_ data: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: data))
    }

    /// Hi(password, salt, i): PBKDF2-HMAC-SHA-256 with one 32-byte block, i.e. SaltedPassword.
    static func saltedPassword(_ password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        precondition(iterations >= 1, "SCRAM iteration count must be positive")
        do {
            let key = try KDF.Insecure.PBKDF2.deriveKey(
                from: password,
                salt: salt,
                using: .sha256,
                outputByteCount: 32,
                unsafeUncheckedRounds: iterations  // PostgreSQL's default is 4096, below the checked API's floor
            )
            return key.withUnsafeBytes { Array($0) }
        } catch {
            // Only an allocation failure inside BoringSSL gets here: not something a peer can cause.
            preconditionFailure("PBKDF2 failed: \(error)")
        }
    }

    /// ClientKey = HMAC(SaltedPassword, "Client Key"), ServerKey = HMAC(SaltedPassword, "Server Key").
    static func keys(saltedPassword: [UInt8]) -> (clientKey: [UInt8], serverKey: [UInt8]) {
        (hmac(key: saltedPassword, Array("Client Key".utf8)), hmac(key: saltedPassword, Array("Server Key".utf8)))
    }

    /// Bytewise XOR of two equally long arrays.
    static func xor(_ lhs: [UInt8], _ rhs: [UInt8]) -> [UInt8] {
        precondition(lhs.count == rhs.count)
        return zip(lhs, rhs).map { $0 ^ $1 }
    }

    /// Compares without an early exit, so timing does not tell how many leading bytes of a proof were right.
    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else {
            return false
        }
        return zip(lhs, rhs).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// True for a valid nonce: printable ASCII except ',' (RFC 5802 `printable`), at least one character.
    static func isValidNonce<Bytes: Collection<UInt8>>(_ nonce: Bytes) -> Bool {
        !nonce.isEmpty && nonce.allSatisfy { $0 >= 0x21 && $0 <= 0x7E && $0 != UInt8(ascii: ",") }
    }

    /// Splits a message into its comma-separated attributes (`a=value`); values never contain ','.
    static func attributes(_ message: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        message.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
    }

    /// The value of `attribute` if it is `name=value`, else nil.
    static func value(of name: Character, in attribute: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        guard attribute.count >= 2,
            attribute[attribute.startIndex] == name.asciiValue,
            attribute[attribute.startIndex + 1] == UInt8(ascii: "=")
        else {
            return nil
        }
        return attribute.dropFirst(2)
    }

    /// The value of `attribute`, which must be `name=value`; throws naming what was expected.
    static func expect(
        _ name: Character,
        in attribute: ArraySlice<UInt8>?,
        _ what: String
    ) throws(SCRAMError) -> ArraySlice<UInt8> {
        guard let attribute, let value = value(of: name, in: attribute) else {
            throw SCRAMError("malformed scram message: expected \(what)")
        }
        return value
    }

    /// Throws for the mandatory-extension attribute `m=`, which RFC 5802 says to refuse when not understood.
    static func rejectMandatoryExtension(_ attribute: ArraySlice<UInt8>?) throws(SCRAMError) {
        if let attribute, value(of: "m", in: attribute) != nil {
            throw SCRAMError("scram mandatory extensions are not supported")
        }
    }
}
