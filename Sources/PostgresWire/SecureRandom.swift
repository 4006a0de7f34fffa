import Crypto

/// Cryptographically secure random bytes for salts, nonces and cancel keys.
///
/// From swift-crypto's generator (BoringSSL's DRBG, seeded by the kernel): one call for any count, where the
/// standard library's generator makes a getrandom(2) system call per 8 bytes — five per client login.
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        let key = SymmetricKey(size: SymmetricKeySize(bitCount: count * 8))
        return key.withUnsafeBytes { Array($0) }
    }
}
