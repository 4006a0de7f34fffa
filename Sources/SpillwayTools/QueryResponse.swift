import NIOCore
import PostgresWire

/// Collects the answer to one simple Query ('Q'): per statement an optional RowDescription, DataRows and
/// CommandComplete (or EmptyQueryResponse); an ErrorResponse ends the statements; ReadyForQuery ends the answer.
/// Frames in, results out; it never touches a socket.
struct QueryResponse {
    /// Where the answer stands after a frame.
    enum Progress: Equatable {
        /// More frames are expected.
        case more
        /// ReadyForQuery arrived: the results of every statement, or the error that stopped them.
        case done(Result<[QueryResult], WireClientError>)
        /// The frame cannot be taken: the connection is out of step and must be closed.
        case broken(WireClientError)
    }

    /// Statements completed so far.
    private var results: [QueryResult] = []
    /// Column names of the statement in progress.
    private var columns: [String] = []
    /// Rows of the statement in progress.
    private var rows: [[String?]] = []
    /// The error that ended the statements, reported once ReadyForQuery arrives.
    private var error: ErrorResponse?

    /// An ErrorResponse received without the ReadyForQuery that would report it: a FATAL before the server closed.
    var pendingError: ErrorResponse? {
        error
    }

    /// Takes one frame from the server.
    mutating func receive(_ frame: Frame) -> Progress {
        var body = frame.body
        switch frame.type {
        case .rowDescription:
            guard let names = Self.columnNames(&body) else {
                return .broken(.protocolViolation("malformed RowDescription"))
            }
            columns = names
            rows = []
        case .dataRow:
            guard let row = Self.values(&body) else { return .broken(.protocolViolation("malformed DataRow")) }
            rows.append(row)
        case .commandComplete:
            guard let tag = body.readNullTerminatedString() else {
                return .broken(.protocolViolation("malformed CommandComplete"))
            }
            results.append(QueryResult(columns: columns, rows: rows, tag: tag))
            columns = []
            rows = []
        case .emptyQueryResponse:
            results.append(QueryResult(tag: ""))
        case .errorResponse:
            do {
                error = try ErrorResponse(body: body)
            } catch {
                return .broken(.protocolViolation(error.description))
            }
        case .readyForQuery:
            if let error {
                return .done(.failure(.server(error)))
            }
            return .done(.success(results))
        case .noticeResponse, .parameterStatus, .notificationResponse:
            break  // notices, changed settings and notifications do not change the result
        default:
            // CopyInResponse and friends need a conversation this client does not hold.
            return .broken(.protocolViolation("unexpected message \(frame.type) in a query answer"))
        }
        return .more
    }

    /// RowDescription: Int16 field count, then per field String name, Int32 table OID, Int16 column number,
    /// Int32 type OID, Int16 type size, Int32 type modifier, Int16 format code. Only the names are kept.
    private static func columnNames(_ body: inout ByteBuffer) -> [String]? {
        guard let count = body.readInteger(as: Int16.self), count >= 0 else { return nil }
        var names: [String] = []
        for _ in 0..<count {
            guard let name = body.readNullTerminatedString(), body.readSlice(length: 18) != nil else { return nil }
            names.append(name)
        }
        return body.readableBytes == 0 ? names : nil
    }

    /// DataRow: Int16 value count, then per value Int32 length (-1 = NULL) and that many bytes, in text format.
    private static func values(_ body: inout ByteBuffer) -> [String?]? {
        guard let count = body.readInteger(as: Int16.self), count >= 0 else { return nil }
        var row: [String?] = []
        row.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let length = body.readInteger(as: Int32.self) else { return nil }
            if length == -1 {
                row.append(nil)
                continue
            }
            guard length >= 0, let text = body.readString(length: Int(length)) else { return nil }
            row.append(text)
        }
        return body.readableBytes == 0 ? row : nil
    }
}
