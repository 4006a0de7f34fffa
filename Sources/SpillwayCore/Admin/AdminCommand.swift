/// A command typed into the admin console (`psql -p 6432 pgbouncer`), PgBouncer's syntax.
public enum AdminCommand: Sendable, Equatable {
    /// SHOW <what>: read-only, allowed for stats_users too.
    case show(String)
    case pause(database: String?)
    case resume(database: String?)
    case disable(database: String)
    case enable(database: String)
    case reconnect(database: String?)
    case kill(database: String)
    case killClient(id: String)
    case suspend
    case reload
    case shutdown(mode: ShutdownMode)
    case set(key: String, value: String)

    /// How SHUTDOWN waits.
    public enum ShutdownMode: String, Sendable, Equatable {
        case immediate = ""
        case waitForServers = "WAIT_FOR_SERVERS"
        case waitForClients = "WAIT_FOR_CLIENTS"
    }

    /// Why a command line was not understood.
    public struct ParseError: Error, Sendable, Equatable {
        public var message: String
    }

    /// The command words the console knows, for error messages.
    public static let commands = [
        "SHOW", "PAUSE", "RESUME", "DISABLE", "ENABLE", "RECONNECT", "KILL", "KILL_CLIENT", "SUSPEND", "RELOAD",
        "SHUTDOWN", "SET",
    ]

    /// The database a command names, if any.
    public var database: String? {
        switch self {
        case .pause(let db), .resume(let db), .reconnect(let db): db
        case .disable(let db), .enable(let db), .kill(let db): db
        default: nil
        }
    }

    /// The command's keyword, as typed in upper case.
    public var word: String {
        switch self {
        case .show: "SHOW"
        case .pause: "PAUSE"
        case .resume: "RESUME"
        case .disable: "DISABLE"
        case .enable: "ENABLE"
        case .reconnect: "RECONNECT"
        case .kill: "KILL"
        case .killClient: "KILL_CLIENT"
        case .suspend: "SUSPEND"
        case .reload: "RELOAD"
        case .shutdown: "SHUTDOWN"
        case .set: "SET"
        }
    }

    /// True for commands stats_users may run.
    public var isReadOnly: Bool {
        if case .show = self { return true }
        return false
    }

    /// Parses one statement (case-insensitive keywords, optional trailing semicolon, quoted identifiers).
    public static func parse(_ text: String) throws(ParseError) -> AdminCommand {
        var statement = text.trimmingWhitespace()
        while statement.hasSuffix(";") { statement = String(statement.dropLast()).trimmingWhitespace() }
        let words = statement.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
        guard let first = words.first?.uppercased() else {
            throw ParseError(message: "empty command; known commands: \(commands.joined(separator: ", "))")
        }
        let rest = Array(words.dropFirst())
        func argument(_ index: Int) -> String? { index < rest.count ? unquote(rest[index]) : nil }
        func requireNoMore(_ count: Int) throws(ParseError) {
            if rest.count > count { throw ParseError(message: "too many arguments for \(first)") }
        }
        func required(_ what: String) throws(ParseError) -> String {
            guard let value = argument(0) else { throw ParseError(message: "\(first) needs \(what)") }
            try requireNoMore(1)
            return value
        }
        switch first {
        case "SHOW":
            guard let what = argument(0) else { throw ParseError(message: "SHOW needs what to show, e.g. SHOW POOLS") }
            try requireNoMore(1)
            return .show(what.uppercased())
        case "PAUSE":
            try requireNoMore(1)
            return .pause(database: argument(0))
        case "RESUME":
            try requireNoMore(1)
            return .resume(database: argument(0))
        case "DISABLE": return .disable(database: try required("a database name"))
        case "ENABLE": return .enable(database: try required("a database name"))
        case "RECONNECT":
            try requireNoMore(1)
            return .reconnect(database: argument(0))
        case "KILL": return .kill(database: try required("a database name"))
        case "KILL_CLIENT": return .killClient(id: try required("a client id (see SHOW CLIENTS)"))
        case "SUSPEND":
            try requireNoMore(0)
            return .suspend
        case "RELOAD":
            try requireNoMore(0)
            return .reload
        case "SHUTDOWN":
            try requireNoMore(1)
            guard let word = argument(0) else { return .shutdown(mode: .immediate) }
            guard let mode = ShutdownMode(rawValue: word.uppercased()), mode != .immediate else {
                throw ParseError(message: "SHUTDOWN takes WAIT_FOR_SERVERS or WAIT_FOR_CLIENTS, got \(word)")
            }
            return .shutdown(mode: mode)
        case "SET":
            // SET key = value, SET key TO value; the value may be quoted.
            let body = statement.dropFirst(3).trimmingWhitespace()
            let separator = body.firstIndex(of: "=")
            let (key, value): (String, String)
            if let separator {
                key = String(body[..<separator]).trimmingWhitespace()
                value = String(body[body.index(after: separator)...]).trimmingWhitespace()
            } else if rest.count >= 3, rest[1].uppercased() == "TO" {
                key = rest[0]
                value = rest[2...].joined(separator: " ")
            } else {
                throw ParseError(message: "SET needs key = value")
            }
            guard !key.isEmpty, !value.isEmpty else { throw ParseError(message: "SET needs key = value") }
            return .set(key: key.lowercased(), value: unquote(value))
        default:
            throw ParseError(
                message: "unknown command \"\(words[0])\"; known commands: \(commands.joined(separator: ", "))")
        }
    }

    private static func unquote(_ word: String) -> String {
        for quote in ["'", "\""] where word.count >= 2 && word.hasPrefix(quote) && word.hasSuffix(quote) {
            // A doubled quote inside stands for one.
            var out = ""
            var previousWasQuote = false
            for ch in word.dropFirst().dropLast() {
                if String(ch) == quote && previousWasQuote {
                    previousWasQuote = false
                    continue
                }
                previousWasQuote = String(ch) == quote
                out.append(ch)
            }
            return out
        }
        return word
    }
}

extension StringProtocol {
    fileprivate func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }
}
