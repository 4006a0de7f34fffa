import NIOCore
import PostgresWire
import Testing

@testable import SpillwayTools

@Suite struct QueryResponseTests {
    /// Feeds `frames`; returns the progress after the last one.
    static func feed(_ frames: [Frame]) -> QueryResponse.Progress {
        var response = QueryResponse()
        var progress = QueryResponse.Progress.more
        for frame in frames {
            progress = response.receive(frame)
        }
        return progress
    }

    /// Rows arrive as text with NULL as nil, under their column names and command tag.
    @Test func rowsAndTag() {
        let result = ResultSet(
            columns: [.int4("id"), .text("payload")], rows: [["1", "a"], ["2", nil]], tag: "SELECT 2")
        let progress = Self.feed(WireFrames.of(result) + WireFrames.of([.readyForQuery(.idle)]))
        #expect(
            progress
                == .done(
                    .success([
                        QueryResult(columns: ["id", "payload"], rows: [["1", "a"], ["2", nil]], tag: "SELECT 2")
                    ])))
    }

    /// Several statements give one result each; an empty query gives an empty tag.
    @Test func oneResultPerStatement() {
        let frames =
            WireFrames.of(ResultSet.command("BEGIN")) + WireFrames.of(ResultSet.command("UPDATE 1"))
            + [WireFrames.empty(.emptyQueryResponse)] + WireFrames.of([.readyForQuery(.inTransaction)])
        #expect(
            Self.feed(frames)
                == .done(
                    .success([
                        QueryResult(tag: "BEGIN"), QueryResult(tag: "UPDATE 1"), QueryResult(tag: ""),
                    ])))
    }

    /// An error is reported once ReadyForQuery arrives; notices do not count as errors.
    @Test func errorIsReportedAtReadyForQuery() {
        let error = ErrorResponse(severity: .error, code: .syntaxError, message: "syntax error at or near \"SELEC\"")
        let notice = ErrorResponse(severity: .notice, code: SQLState("00000"), message: "hello")
        var response = QueryResponse()
        #expect(response.receive(WireFrames.of([.noticeResponse(notice)])[0]) == .more)
        #expect(response.receive(WireFrames.of([.errorResponse(error)])[0]) == .more)
        #expect(response.pendingError == error)
        #expect(response.receive(WireFrames.of([.readyForQuery(.idle)])[0]) == .done(.failure(.server(error))))
    }

    /// A DataRow shorter than it claims, or COPY, breaks the connection instead of returning wrong rows.
    @Test func malformedOrUnsupportedBreaks() {
        var body = ByteBuffer()
        body.writeInteger(Int16(1))  // one value...
        body.writeInteger(Int32(10))  // ...of 10 bytes, but none follow
        #expect(
            Self.feed([Frame(type: .dataRow, body: body)]) == .broken(.protocolViolation("malformed DataRow")))
        var copy = ByteBuffer()
        copy.writeBytes([0, 0, 0])
        guard case .broken(.protocolViolation) = Self.feed([Frame(type: .copyInResponse, body: copy)]) else {
            Issue.record("CopyInResponse was accepted")
            return
        }
    }
}
