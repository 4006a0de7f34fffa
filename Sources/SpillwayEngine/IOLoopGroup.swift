#if canImport(Glibc)
import Glibc
#endif
import CSpillwayEngine
import Synchronization

/// The engine's loops, one thread each: `threads` of them, usually one per core.
public final class IOLoopGroup: Sendable {
    /// The loops, indexed by `IOLoop.index`.
    public let loops: [IOLoop]
    private let threads = Mutex<[pthread_t]>([])

    /// Creates `count` loops and starts a thread for each.
    public init(loops count: Int) throws(SocketError) {
        precondition(count >= 1, "an event loop group needs at least one loop")
        var loops: [IOLoop] = []
        for index in 0..<count {
            loops.append(try IOLoop(index: index))
        }
        self.loops = loops
        for loop in loops {
            let box = Unmanaged.passRetained(LoopBox(loop))
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { raw in
                let box = Unmanaged<LoopBox>.fromOpaque(raw!).takeRetainedValue()
                box.loop.run()
                return nil
            }, box.toOpaque())
            precondition(status == 0, "pthread_create failed: \(status)")
            self.threads.withLock { $0.append(thread) }
        }
    }

    /// The loop after `loop`, round robin (for spreading work started outside the loops).
    public func loop(after index: Int) -> IOLoop {
        self.loops[(index + 1) % self.loops.count]
    }

    /// Stops every loop after its current iteration and waits for their threads to end. Call from outside the
    /// loops.
    public func shutdown() {
        for loop in self.loops { loop.stop() }
        let threads = self.threads.withLock { list in
            defer { list = [] }
            return list
        }
        for thread in threads { pthread_join(thread, nil) }
    }

    private final class LoopBox {
        let loop: IOLoop
        init(_ loop: IOLoop) { self.loop = loop }
    }
}
