import Crypto

/// PostgreSQL's md5 password scheme: the stored hash `"md5" + hex(md5(password + user))`, and the response to
/// AuthenticationMD5Password, `"md5" + hex(md5(hex part of the stored hash + salt))`.
public enum MD5Password {
    /// "md5" + hex(md5(password + user)): the form PostgreSQL stores and userlist.txt may hold.
    public static func storedHash(user: String, password: String) -> String {
        "md5" + hex(Insecure.MD5.hash(data: Array((password + user).utf8)))
    }

    /// "md5" + hex(md5(hex part of storedHash + salt)): what a client sends for AuthenticationMD5Password.
    /// A value without the "md5" prefix is hashed whole.
    public static func response(storedHash: String, salt: [UInt8]) -> String {
        let hexPart = storedHash.hasPrefix("md5") ? storedHash.utf8.dropFirst(3) : storedHash.utf8[...]
        return "md5" + hex(Insecure.MD5.hash(data: Array(hexPart) + salt))
    }

    /// Convenience: `response(storedHash: storedHash(user:password:), salt:)`.
    public static func response(user: String, password: String, salt: [UInt8]) -> String {
        response(storedHash: storedHash(user: user, password: password), salt: salt)
    }

    /// True for "md5" followed by 32 lowercase hex digits.
    public static func isStoredHash(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard bytes.count == 35, bytes.starts(with: "md5".utf8) else {
            return false
        }
        return bytes.dropFirst(3).allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Lowercase hex of a digest.
    static func hex<Digest: Sequence<UInt8>>(_ digest: Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
