#if canImport(Glibc)
import Glibc
#endif
import CSpillwayEngine

/// An IPv4, IPv6 or Unix socket address, as the kernel gives and takes it.
public struct NetworkAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address family.
    public enum Family: Sendable, Hashable {
        case inet
        case inet6
        case unix
    }

    private var storage: sockaddr_storage
    /// How many bytes of `storage` are the address.
    public let length: socklen_t

    init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
    }

    /// A numeric IPv4 or IPv6 address and a port; nil when `host` is not a numeric address (a name to resolve).
    public init?(numericHost host: String, port: Int) {
        var storage = sockaddr_storage()
        var in4 = sockaddr_in()
        if inet_pton(AF_INET, host, &in4.sin_addr) == 1 {
            in4.sin_family = sa_family_t(AF_INET)
            in4.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: in4) { raw.copyMemory(from: $0) } }
            self.init(storage: storage, length: socklen_t(MemoryLayout<sockaddr_in>.size))
            return
        }
        var in6 = sockaddr_in6()
        if inet_pton(AF_INET6, host, &in6.sin6_addr) == 1 {
            in6.sin6_family = sa_family_t(AF_INET6)
            in6.sin6_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: in6) { raw.copyMemory(from: $0) } }
            self.init(storage: storage, length: socklen_t(MemoryLayout<sockaddr_in6>.size))
            return
        }
        return nil
    }

    /// A Unix socket path; nil when the path does not fit `sun_path`.
    public init?(unixPath path: String) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: address) { raw.copyMemory(from: $0) } }
        let length = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)! + bytes.count + 1
        self.init(storage: storage, length: socklen_t(length))
    }

    /// Copies an address `getaddrinfo` returned.
    init(_ address: UnsafePointer<sockaddr>, length: socklen_t) {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(length))) }
        self.init(storage: storage, length: length)
    }

    /// Which family this is.
    public var family: Family {
        switch Int32(self.storage.ss_family) {
        case AF_INET: .inet
        case AF_INET6: .inet6
        default: .unix
        }
    }

    /// `AF_INET`, `AF_INET6` or `AF_UNIX`, for `socket(2)`.
    public var familyValue: Int32 { Int32(self.storage.ss_family) }

    /// The port, or nil for a Unix socket.
    public var port: Int? {
        switch self.family {
        case .inet: self.withIPv4 { Int(UInt16(bigEndian: $0.sin_port)) }
        case .inet6: self.withIPv6 { Int(UInt16(bigEndian: $0.sin6_port)) }
        case .unix: nil
        }
    }

    /// The numeric host (`127.0.0.1`, `::1`), or the path of a Unix socket (empty for an unnamed one).
    public var host: String {
        switch self.family {
        case .inet:
            return self.withIPv4 { address in
                var address = address.sin_addr
                return Self.numeric(AF_INET, &address, Int(INET_ADDRSTRLEN))
            }
        case .inet6:
            return self.withIPv6 { address in
                var address = address.sin6_addr
                return Self.numeric(AF_INET6, &address, Int(INET6_ADDRSTRLEN))
            }
        case .unix:
            let offset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
            guard Int(self.length) > offset else { return "" }
            return withUnsafeBytes(of: self.storage) { raw in
                let path = raw[offset..<Int(self.length)].prefix { $0 != 0 }
                return String(decoding: path, as: UTF8.self)
            }
        }
    }

    /// `host:port`, `[host]:port` or the Unix path: how logs and the admin console show a peer.
    public var description: String {
        switch self.family {
        case .inet: "\(self.host):\(self.port ?? 0)"
        case .inet6: "[\(self.host)]:\(self.port ?? 0)"
        case .unix: self.host.isEmpty ? "unix" : self.host
        }
    }

    /// Calls `body` with the address as a `sockaddr` pointer, for `bind` and `connect`.
    public func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafeBytes(of: self.storage) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), self.length)
        }
    }

    private func withIPv4<R>(_ body: (sockaddr_in) -> R) -> R {
        withUnsafeBytes(of: self.storage) { body($0.load(as: sockaddr_in.self)) }
    }

    private func withIPv6<R>(_ body: (sockaddr_in6) -> R) -> R {
        withUnsafeBytes(of: self.storage) { body($0.load(as: sockaddr_in6.self)) }
    }

    private static func numeric(_ family: Int32, _ address: UnsafeRawPointer, _ size: Int) -> String {
        var text = [CChar](repeating: 0, count: size)
        guard inet_ntop(family, address, &text, socklen_t(size)) != nil else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func == (lhs: NetworkAddress, rhs: NetworkAddress) -> Bool {
        lhs.length == rhs.length && withUnsafeBytes(of: lhs.storage) { l in
            withUnsafeBytes(of: rhs.storage) { r in l.prefix(Int(lhs.length)).elementsEqual(r.prefix(Int(rhs.length))) }
        }
    }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes(of: self.storage) { hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: $0.prefix(Int(self.length)))) }
    }
}
