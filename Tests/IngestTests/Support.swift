import Foundation
import Ingest
import TestSupport

/// Paths of the repository's fixtures, found from this file so tests run from any directory.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}

/// A scratch directory removed when the value is deinitialised.
final class ScratchDirectory {
    let url: URL

    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `bytes` to `name` and returns its path.
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let path = url.appendingPathComponent(name).path
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    func write(_ name: String, _ text: String) -> String { write(name, Array(text.utf8)) }

    /// gzip-compresses `bytes` with the system gzip (so the test does not trust our own zlib use).
    func writeGzip(_ name: String, _ bytes: [UInt8]) throws -> String {
        let plain = write(name + ".plain", bytes)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
        process.arguments = ["-n", "-c", plain]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readAllRetryingInterrupts()
        process.waitUntilExit()
        return write(name, [UInt8](data))
    }
}

/// A valid cost event as one JSON line, with fields replaced or removed (nil) as a test needs.
func eventLine(_ overrides: [String: String?] = [:]) -> String {
    var fields: [(String, String)] = [
        ("event_id", "\"evt_1\""), ("organisation_id", "\"met-police\""), ("team", "\"cyber-crime-unit\""),
        ("investigation", "\"op-falcon\""), ("operation", "\"llm.completion\""), ("credits", "12"),
        ("occurred_at", "\"2026-11-03T09:15:00Z\""),
    ]
    for (key, value) in overrides.sorted(by: { $0.key < $1.key }) {
        if let index = fields.firstIndex(where: { $0.0 == key }) {
            if let value { fields[index].1 = value } else { fields.remove(at: index) }
        } else if let value {
            fields.append((key, value))
        }
    }
    return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
}

/// Parses one line with the production parser.
func parseEvent(_ line: String, limits: IngestLimits = .standard) -> CostEventOutcome {
    CostEventParser(displayName: "test.jsonl", limits: limits).parse(Array(line.utf8), line: 1)
}

extension CostEventOutcome {
    var event: CostEventRecord? {
        if case .event(let record) = self { return record }
        return nil
    }

    var rejection: Rejection? {
        if case .rejected(let rejection) = self { return rejection }
        return nil
    }
}

extension RevolutOrderOutcome {
    var order: RevolutOrderObservation? {
        if case .order(let order) = self { return order }
        return nil
    }

    var rejection: Rejection? {
        if case .rejected(let rejection) = self { return rejection }
        return nil
    }
}
