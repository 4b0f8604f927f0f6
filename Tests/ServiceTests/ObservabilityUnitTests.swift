import Foundation
import HTTPTypes
import Logging
import Testing
import TestSupport

@testable import Service

/// Goal: the parsing and formatting rules behind the service's logs and process metrics, case by case:
/// which `traceparent` values give a request id, what a JSON log line looks like for awkward messages
/// and metadata, and how `/proc/self/stat` is read when the command name holds spaces and parentheses.
/// (The end-to-end tests run them in a live server.)
@Suite struct ObservabilityUnitTests {
    @Test(arguments: [
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736"),
        ("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", "4bf92f3577b34da6a3ce929d0e0e4736"),
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", nil),  // version 00 has 4 fields
        ("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", nil),  // version ff is invalid
        ("00-00000000000000000000000000000000-00f067aa0ba902b7-01", nil),  // all-zero trace id
        ("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", nil),  // all-zero parent id
        ("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", nil),  // upper case
        ("00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", nil),  // 31 digits
        ("garbage", nil),
    ] as [(String, String?)])
    func traceparentGivesTheTraceID(header: String, expected: String?) {
        #expect(RequestLoggingMiddleware.traceID(header) == expected)
    }

    @Test func requestID_prefersXRequestId_thenTraceparent_elseAFixedLengthNewOne() {
        var headers = HTTPFields()
        headers[HTTPField.Name("traceparent")!] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        #expect(RequestLoggingMiddleware.requestID(for: headers) == "4bf92f3577b34da6a3ce929d0e0e4736")
        headers[HTTPField.Name("X-Request-Id")!] = "mine-1"
        #expect(RequestLoggingMiddleware.requestID(for: headers) == "mine-1")
        headers[HTTPField.Name("X-Request-Id")!] = "bad id\n"
        #expect(RequestLoggingMiddleware.requestID(for: headers) == "4bf92f3577b34da6a3ce929d0e0e4736")
        // Leading zeros are kept, so the length never varies.
        #expect((0..<2000).allSatisfy { _ in RequestLoggingMiddleware.newID().utf8.count == 32 })
    }

    /// A log output into a pipe, read back line by line.
    final class Capture {
        let pipe = Pipe()
        lazy var output = LogLineOutput(descriptor: pipe.fileHandleForWriting.fileDescriptor)

        func lines() throws -> [[String: Any]] {
            try pipe.fileHandleForWriting.close()
            let text = String(decoding: pipe.fileHandleForReading.readAllRetryingInterrupts(), as: UTF8.self)
            return try text.split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
        }
    }

    @Test func jsonLine_escapesText_keepsIntegers_andMetadataCannotReplaceFixedFields() throws {
        let capture = Capture()
        var handler = JSONLogHandler(
            label: "test", metadataProvider: Logger.MetadataProvider { ["from_provider": "p"] }, output: capture.output)
        handler.logLevel = .trace
        var logger = Logger(label: "test") { _ in handler }
        logger[metadataKey: "request_id"] = "r-1"
        logger.warning(
            "quote \" backslash \\ newline \n tab \t bell \u{7} é",
            metadata: ["status": .stringConvertible(201), "msg": "overwrite?", "list": ["a", .stringConvertible(2)],
                       "nested": ["k": "v"]])
        let line = try #require(try capture.lines().first)
        #expect(line["msg"] as? String == "quote \" backslash \\ newline \n tab \t bell \u{7} é")
        #expect(line["level"] as? String == "warning")
        #expect(line["logger"] as? String == "test")
        #expect(line["status"] as? Int == 201)
        #expect(line["request_id"] as? String == "r-1")
        #expect(line["from_provider"] as? String == "p")
        #expect((line["list"] as? [Any])?.count == 2)
        #expect((line["nested"] as? [String: String]) == ["k": "v"])
        let ts = try #require(line["ts"] as? String)
        #expect(ts.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil, "\(ts)")
    }

    @Test func requestScope_addsTheRequestIDToLinesOfLoggersMadeElsewhere() async throws {
        let capture = Capture()
        let handler = JSONLogHandler(label: "revolut", metadataProvider: RequestScope.metadataProvider, output: capture.output)
        let logger = Logger(label: "revolut") { _ in handler }
        logger.info("outside")
        RequestScope.$requestID.withValue("req-9") { logger.info("inside") }
        let lines = try capture.lines()
        #expect(lines.count == 2)
        #expect(lines[0]["request_id"] == nil)
        #expect(lines[1]["request_id"] as? String == "req-9")
    }

    @Test func procStat_countsFieldsFromTheLastParenthesis() throws {
        let text = "4242 (odd) name (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 123456 "
            + "999424 2048 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n"
        let stat = try #require(ProcStat.parse(text))
        #expect(stat.userTicks == 250)
        #expect(stat.systemTicks == 75)
        #expect(stat.startTicks == 123456)
        #expect(stat.residentPages == 2048)
        #expect(ProcStat.parse("12 (short) S 1 2") == nil)
        #expect(ProcStat.read() != nil, "this process's own /proc/self/stat parses")
    }
}
