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

    /// Runs `body` on every loop and calls `done` once with the results, by loop index, on the thread of the
    /// loop that finished last. For reports gathered across loops (the admin console), not the data path.
    public func gather<Result: Sendable>(
        _ body: @escaping @Sendable (IOLoop) -> Result, done: @escaping @Sendable ([Result]) -> Void
    ) {
        let results = Mutex<(values: [Result?], left: Int)>((Array(repeating: nil, count: self.loops.count), self.loops.count))
        for loop in self.loops {
            loop.execute {
                let value = body(loop)
                let finished = results.withLock { state -> [Result]? in
                    state.values[loop.index] = value
                    state.left -= 1
                    return state.left == 0 ? state.values.map { $0! } : nil
                }
                if let finished { done(finished) }
            }
        }
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
