import Synchronization
import SpillwayCore

/// What every loop knows of one pool: where its servers log in, the bounds its shards share, the
/// ParameterStatus set its first server reported (what clients are told at login), and why its last server
/// login failed.
final class PoolInfo: Sendable {
    let key: PoolKey
    let shared: PoolShared
    private let state: Mutex<State>

    private struct State {
        var limits: PoolStateMachine.Limits
        var target: ServerTarget
        var credentials: ServerCredentials = .none
        var parameters: [(name: String, value: String)]?
        var lastLoginFailure: ServerFailure?
    }

    init(key: PoolKey, target: ServerTarget, limits: PoolStateMachine.Limits, shared: PoolShared) {
        self.key = key
        self.shared = shared
        self.state = Mutex(State(limits: limits, target: target))
    }

    /// Where its servers connect and log in (RELOAD can move it; servers opened before are replaced).
    var target: ServerTarget {
        get { state.withLock { $0.target } }
        set { state.withLock { $0.target = newValue } }
    }

    /// The pool's limits now (RELOAD and SET change them).
    var limits: PoolStateMachine.Limits {
        get { state.withLock { $0.limits } }
        set { state.withLock { $0.limits = newValue } }
    }

    /// How servers log in: the latest credentials a client login provided (SCRAM keys pass through).
    var credentials: ServerCredentials {
        get { state.withLock { $0.credentials } }
    }

    func offer(_ credentials: ServerCredentials) {
        guard credentials != .none else { return }
        state.withLock { $0.credentials = credentials }
    }

    /// The first server's ParameterStatus set; nil until a server of the pool logged in.
    var parameters: [(name: String, value: String)]? {
        state.withLock { $0.parameters }
    }

    func learnParameters(_ parameters: [(name: String, value: String)]) {
        state.withLock { if $0.parameters == nil { $0.parameters = parameters } }
    }

    var lastLoginFailure: ServerFailure? {
        get { state.withLock { $0.lastLoginFailure } }
        set { state.withLock { $0.lastLoginFailure = newValue } }
    }
}
