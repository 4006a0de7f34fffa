#if canImport(Glibc)
import Glibc
#endif
import CSpillwayEngine
import Dispatch

/// Where to connect: a host (name or numeric address) and port, or a Unix socket path.
public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unix(path: String)

    public var description: String {
        switch self {
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): path
        }
    }
}

/// Why a connect attempt gave up.
public enum ConnectError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The name did not resolve (`getaddrinfo`'s message).
    case resolution(String)
    /// No address answered before the deadline.
    case timedOut
    /// The last address tried refused or failed.
    case failed(SocketError)

    public var description: String {
        switch self {
        case .resolution(let message): "could not resolve: \(message)"
        case .timedOut: "timed out"
        case .failed(let error): "\(error)"
        }
    }
}

extension IOLoop {
    /// Connects to `endpoint` without blocking the loop: a numeric address or Unix path at once, a name through
    /// `getaddrinfo` on a background thread. Each resolved address is tried in turn until one connects or
    /// `timeout` has passed since the call. `completion` runs on this loop with a connected, non-blocking socket
    /// (TCP sockets with `TCP_NODELAY`), which the caller then wraps in a `Connection`.
    public func connect(
        to endpoint: Endpoint, timeout: Duration, _ completion: @escaping (Result<Socket, ConnectError>) -> Void
    ) {
        let deadline = self.now + timeout
        switch endpoint {
        case .unix(let path):
            guard let address = NetworkAddress(unixPath: path) else {
                completion(.failure(.resolution("socket path too long: \(path)")))
                return
            }
            ConnectAttempt(loop: self, addresses: [address], deadline: deadline, completion: completion).next()
        case .tcp(let host, let port):
            if let address = NetworkAddress(numericHost: host, port: port) {
                ConnectAttempt(loop: self, addresses: [address], deadline: deadline, completion: completion).next()
                return
            }
            let transfer = UnsafeTransfer(completion)
            DispatchQueue.global().async {
                let resolved = Resolver.resolve(host: host, port: port)
                self.execute {
                    let completion = transfer.value
                    switch resolved {
                    case .failure(let error):
                        completion(.failure(error))
                    case .success(let addresses):
                        ConnectAttempt(loop: self, addresses: addresses, deadline: deadline, completion: completion)
                            .next()
                    }
                }
            }
        }
    }
}

/// `getaddrinfo` for stream sockets; blocking, so never called on a loop.
enum Resolver {
    static func resolve(host: String, port: Int) -> Result<[NetworkAddress], ConnectError> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0 else {
            return .failure(.resolution(String(cString: gai_strerror(status))))
        }
        defer { freeaddrinfo(list) }
        var addresses: [NetworkAddress] = []
        var entry = list
        while let current = entry {
            if let address = current.pointee.ai_addr {
                let resolved = NetworkAddress(address, length: current.pointee.ai_addrlen)
                if !addresses.contains(resolved) { addresses.append(resolved) }
            }
            entry = current.pointee.ai_next
        }
        return addresses.isEmpty ? .failure(.resolution("no address for \(host)")) : .success(addresses)
    }
}

/// One connect in progress: tries addresses in order, each until it answers or the deadline passes.
private final class ConnectAttempt: Selectable {
    let loop: IOLoop
    var addresses: [NetworkAddress]
    let deadline: ContinuousClock.Instant
    var completion: ((Result<Socket, ConnectError>) -> Void)?
    var socket: Socket?
    var token: UInt64 = 0
    var timer: TimerID?
    var lastError: ConnectError = .timedOut

    init(loop: IOLoop, addresses: [NetworkAddress], deadline: ContinuousClock.Instant,
        completion: @escaping (Result<Socket, ConnectError>) -> Void)
    {
        self.loop = loop
        self.addresses = addresses.reversed()
        self.deadline = deadline
        self.completion = completion
    }

    /// Tries the next address, or reports the last failure when none is left.
    func next() {
        guard self.loop.now < self.deadline, let address = self.addresses.popLast() else {
            self.finish(.failure(self.loop.now < self.deadline ? self.lastError : .timedOut))
            return
        }
        do throws(SocketError) {
            let socket = try Socket.stream(family: address.familyValue)
            self.socket = socket
            let result = address.withSockAddr { Glibc.connect(socket.fd, $0, $1) }
            if result == 0 {
                self.connected(socket, address)
                return
            }
            guard Glibc.errno == EINPROGRESS || Glibc.errno == EAGAIN else {
                throw SocketError("connect")
            }
            self.token = try self.loop.register(socket.fd, self, interest: Interest.write)
            if self.timer == nil {
                self.timer = self.loop.schedule(at: self.deadline) { [self] in self.timedOut() }
            }
        } catch {
            self.socket?.close()
            self.socket = nil
            self.lastError = .failed(error)
            self.next()
        }
    }

    func handleEvents(_ events: UInt32) {
        guard let socket = self.socket else { return }
        self.loop.deregister(socket.fd, token: self.token)
        let status = (try? socket.option(level: SOL_SOCKET, name: SO_ERROR)) ?? EIO
        if status == 0 {
            self.connected(socket, nil)
            return
        }
        socket.close()
        self.socket = nil
        self.lastError = .failed(SocketError("connect", errno: .init(rawValue: status)))
        self.next()
    }

    private func connected(_ socket: Socket, _ address: NetworkAddress?) {
        self.socket = nil
        if address?.family ?? (try? socket.localAddress().family) != .unix {
            try? socket.setNoDelay()
        }
        self.finish(.success(socket))
    }

    private func timedOut() {
        self.timer = nil
        if let socket = self.socket {
            self.loop.deregister(socket.fd, token: self.token)
            socket.close()
            self.socket = nil
        }
        self.finish(.failure(.timedOut))
    }

    private func finish(_ result: Result<Socket, ConnectError>) {
        if let timer = self.timer {
            self.loop.cancel(timer)
            self.timer = nil
        }
        guard let completion = self.completion else { return }
        self.completion = nil
        completion(result)
    }
}
