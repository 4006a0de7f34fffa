#if canImport(Glibc)
import Glibc
#endif
import CSpillwayEngine
import NIOCore
import Synchronization

/// Something registered with a loop's epoll set: a connection, a listener, a connect in progress.
protocol Selectable: AnyObject {
    /// Called on the loop with the `epoll_event` bits that fired.
    func handleEvents(_ events: UInt32)
}

/// Interest bits for epoll, named.
enum Interest {
    static let read = UInt32(EPOLLIN.rawValue) | UInt32(EPOLLRDHUP.rawValue)
    static let write = UInt32(EPOLLOUT.rawValue)
    static let exclusive = UInt32(EPOLLEXCLUSIVE.rawValue)
    static let hangup = UInt32(EPOLLHUP.rawValue) | UInt32(EPOLLERR.rawValue)
}

/// One event loop: an epoll set, its timers, a queue other threads post to (woken by an eventfd), and the
/// per-loop buffers its connections read into and write from.
///
/// Everything but `execute(_:)` is called on the loop's own thread. One iteration: wait for events (bounded by
/// the next timer), dispatch them, run tasks posted from other loops, run tasks queued on this loop, fire due
/// timers, then flush every connection written to during the iteration — one `writev` per connection.
public final class IOLoop: @unchecked Sendable {
    /// Position of this loop in its group, 0-based; pools use it to name their shard.
    public let index: Int

    let epollFD: Int32
    private let wakeFD: Int32

    // MARK: Loop-confined state

    /// The registered handlers, by slot; a slot's generation changes on reuse so a stale event is ignored.
    private var slots: [Slot] = []
    private var freeSlots: [UInt32] = []
    private var timers = TimerHeap()
    private var localTasks: [() -> Void] = []
    /// Tasks taken from the inbox, being run (kept to reuse its storage).
    private var posted: [@Sendable () -> Void] = []
    private var flushList: [Connection] = []
    private var flushing: [Connection] = []
    /// The time at the start of this iteration's dispatch; what machines are given as `now`.
    public private(set) var now: ContinuousClock.Instant

    /// `now` as nanoseconds since the engine's epoch (never 0): 8 bytes to keep where 16 would add up.
    public var nanos: UInt64 { Self.nanos(of: now) }

    /// `instant` as nanoseconds since the engine's epoch, at least 1.
    public static func nanos(of instant: ContinuousClock.Instant) -> UInt64 {
        let (seconds, attoseconds) = (instant - engineEpoch).components
        return max(UInt64(clamping: seconds) &* 1_000_000_000 &+ UInt64(clamping: attoseconds / 1_000_000_000), 1)
    }
    /// The loop's read buffer: every connection reads into it, and keeps a slice only for bytes still in flight.
    var readBuffer: ByteBuffer
    /// Output buffers given back after a flush, for the next writes of any connection on this loop.
    var spareOutput: [ByteBuffer] = []
    /// `iovec`s for `writev`, reused.
    let iovecs: UnsafeMutablePointer<iovec>
    static let iovecCapacity = 64
    private let events: UnsafeMutablePointer<epoll_event>
    private static let eventCapacity = 256
    private var thread: pthread_t?
    private var running = true

    // MARK: Shared state

    private struct Inbox {
        var tasks: [@Sendable () -> Void] = []
        var wakePending = false
        var stopped = false
    }
    private let inbox = Mutex(Inbox())

    private struct Slot {
        var generation: UInt32
        var handler: (any Selectable)?
    }

    /// Size of the loop's read buffer: one read takes at most this much.
    public static let readBufferSize = 64 * 1024

    /// Creates a loop; it runs once `run()` is called on a thread (`IOLoopGroup` does that).
    public init(index: Int) throws(SocketError) {
        self.index = index
        self.epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard self.epollFD >= 0 else { throw SocketError("epoll_create1") }
        self.wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard self.wakeFD >= 0 else {
            Glibc.close(self.epollFD)
            throw SocketError("eventfd")
        }
        self.now = .now
        self.readBuffer = ByteBufferAllocator().buffer(capacity: Self.readBufferSize)
        self.iovecs = .allocate(capacity: Self.iovecCapacity)
        self.events = .allocate(capacity: Self.eventCapacity)
        var event = epoll_event()
        event.events = UInt32(EPOLLIN.rawValue)
        event.data.u64 = UInt64.max  // the eventfd's token
        guard epoll_ctl(self.epollFD, EPOLL_CTL_ADD, self.wakeFD, &event) == 0 else {
            throw SocketError("epoll_ctl")
        }
    }

    deinit {
        Glibc.close(self.epollFD)
        Glibc.close(self.wakeFD)
        self.iovecs.deallocate()
        self.events.deallocate()
    }

    // MARK: Registration (on the loop)

    /// Adds `fd` to the epoll set with `interest`; the returned token names it in later calls.
    func register(_ fd: Int32, _ handler: any Selectable, interest: UInt32) throws(SocketError) -> UInt64 {
        self.assertInLoop()
        let index: UInt32
        if let free = self.freeSlots.popLast() {
            index = free
            self.slots[Int(index)].handler = handler
        } else {
            index = UInt32(self.slots.count)
            self.slots.append(Slot(generation: 0, handler: handler))
        }
        let token = UInt64(self.slots[Int(index)].generation) << 32 | UInt64(index)
        var event = epoll_event()
        event.events = interest
        event.data.u64 = token
        guard epoll_ctl(self.epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else {
            let error = SocketError("epoll_ctl")
            self.release(token)
            throw error
        }
        return token
    }

    /// Changes what `fd` is watched for.
    func modify(_ fd: Int32, token: UInt64, interest: UInt32) {
        var event = epoll_event()
        event.events = interest
        event.data.u64 = token
        _ = epoll_ctl(self.epollFD, EPOLL_CTL_MOD, fd, &event)
    }

    /// Removes `fd` from the epoll set and frees its slot; events already returned for it are then ignored.
    func deregister(_ fd: Int32, token: UInt64) {
        _ = epoll_ctl(self.epollFD, EPOLL_CTL_DEL, fd, nil)
        self.release(token)
    }

    /// Frees a slot without touching epoll (the descriptor was closed, which removed it).
    func release(_ token: UInt64) {
        self.assertInLoop()
        let index = Int(token & 0xFFFF_FFFF)
        self.slots[index].handler = nil
        self.slots[index].generation &+= 1
        self.freeSlots.append(UInt32(index))
    }

    /// How many descriptors are registered (the eventfd not counted).
    public var registeredCount: Int { self.slots.count - self.freeSlots.count }

    // MARK: Tasks and timers (on the loop)

    /// Runs `task` on this loop after the current events are dispatched and before the flush: how a driver hands
    /// work to another driver without calling it re-entrantly.
    public func enqueue(_ task: @escaping () -> Void) {
        self.assertInLoop()
        self.localTasks.append(task)
    }

    /// Calls `callback` on this loop at or after `deadline`.
    @discardableResult
    public func schedule(at deadline: ContinuousClock.Instant, _ callback: @escaping () -> Void) -> TimerID {
        self.assertInLoop()
        return self.timers.schedule(at: deadline, callback)
    }

    /// Cancels a timer (a no-op once it fired).
    public func cancel(_ timer: TimerID) {
        self.timers.cancel(timer)
    }

    /// Queues `connection` for the flush at the end of this iteration.
    func needsFlush(_ connection: Connection) {
        self.assertInLoop()
        self.flushList.append(connection)
    }

    // MARK: From any thread

    /// Runs `task` on this loop, from any thread; wakes the loop if it is waiting. Returns false once the loop has
    /// stopped (the task is dropped).
    @discardableResult
    public func execute(_ task: @escaping @Sendable () -> Void) -> Bool {
        let wake: Bool? = self.inbox.withLock { inbox in
            guard !inbox.stopped else { return nil }
            inbox.tasks.append(task)
            defer { inbox.wakePending = true }
            return !inbox.wakePending
        }
        guard let wake else { return false }
        if wake {
            var one: UInt64 = 1
            _ = Glibc.write(self.wakeFD, &one, 8)
        }
        return true
    }

    /// Traps (in debug builds) when called off the loop's thread once the loop runs.
    @inline(__always)
    func assertInLoop(file: StaticString = #fileID, line: UInt = #line) {
        assert(self.thread == nil || self.inLoop, "called off the loop's thread", file: file, line: line)
    }

    /// Whether the caller runs on this loop's thread.
    public var inLoop: Bool {
        guard let thread = self.thread else { return false }
        return pthread_equal(thread, pthread_self()) != 0
    }

    /// Asks the loop to finish its current iteration and return from `run()`. Tasks posted later are dropped.
    public func stop() {
        self.execute { [self] in self.running = false }
    }

    // MARK: The loop

    /// Runs iterations until `stop()`; call on the thread that owns this loop.
    public func run() {
        self.thread = pthread_self()
        while self.running {
            self.iterate()
        }
        let leftover = self.inbox.withLock { inbox in
            inbox.stopped = true
            defer { inbox.tasks = [] }
            return inbox.tasks
        }
        for task in leftover { task() }
        self.runLocalTasks()
        self.flush()
    }

    /// One iteration: wait, dispatch, run tasks, fire timers, flush.
    func iterate() {
        let timeout = self.timeoutMilliseconds()
        let count = epoll_wait(self.epollFD, self.events, Int32(Self.eventCapacity), timeout)
        self.now = .now
        if count > 0 {
            for i in 0..<Int(count) {
                let event = self.events[i]
                let token = event.data.u64
                if token == UInt64.max {
                    var value: UInt64 = 0
                    _ = Glibc.read(self.wakeFD, &value, 8)
                    continue
                }
                let index = Int(token & 0xFFFF_FFFF)
                let slot = self.slots[index]
                guard slot.generation == UInt32(token >> 32), let handler = slot.handler else {
                    continue  // deregistered earlier in this iteration
                }
                handler.handleEvents(event.events)
            }
        }
        self.runPostedTasks()
        self.runLocalTasks()
        self.fireTimers()
        self.flush()
    }

    private func timeoutMilliseconds() -> Int32 {
        if !self.localTasks.isEmpty { return 0 }
        guard let deadline = self.timers.earliest() else { return -1 }
        let wait = deadline - ContinuousClock.now
        if wait <= .zero { return 0 }
        let (seconds, attoseconds) = wait.components
        // Round up: waking a millisecond early would spin until the deadline.
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: milliseconds)
    }

    private func runPostedTasks() {
        // The inbox's array and this loop's are swapped, not replaced: both keep their storage, so posting
        // allocates nothing once the loop has warmed up.
        self.inbox.withLock { inbox in
            inbox.wakePending = false
            if !inbox.tasks.isEmpty { swap(&inbox.tasks, &self.posted) }
        }
        guard !self.posted.isEmpty else { return }
        for task in self.posted { task() }
        self.posted.removeAll(keepingCapacity: true)
    }

    private func runLocalTasks() {
        // Tasks may queue more tasks; those run in the same pass, before the flush.
        var index = 0
        while index < self.localTasks.count {
            let task = self.localTasks[index]
            task()
            index += 1
        }
        self.localTasks.removeAll(keepingCapacity: true)
    }

    private func fireTimers() {
        guard self.timers.count > 0 else { return }
        while let callback = self.timers.popDue(now: self.now) {
            callback()
        }
    }

    private func flush() {
        // Flushing can close a connection whose closure queues more writes; keep going until nothing is left.
        while !self.flushList.isEmpty {
            swap(&self.flushList, &self.flushing)
            for connection in self.flushing {
                connection.flushNow()
            }
            self.flushing.removeAll(keepingCapacity: true)
            self.runLocalTasks()
        }
    }
}

/// The origin of `IOLoop.nanos`: the first time any loop asked.
private let engineEpoch = ContinuousClock.now - .seconds(1)
