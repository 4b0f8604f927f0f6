import Foundation

/// Writes rejections as JSON Lines, one object per refused record, for a person or a tool to work
/// through: `{"column":94,"field":"credits","file":"…","line":3,"message":"…","raw":"…","reason":
/// "creditsMustBePositive"}` (keys sorted, absent values omitted). The raw input is cut to
/// `rejectRawBytesMax` bytes (`"raw_truncated":true` then) and invalid UTF-8 in it is replaced by U+FFFD.
///
/// The file is written under a temporary name beside the target and renamed into place by `finish()`,
/// so a crashed run never leaves a half-written rejects file under the real name.
public final class RejectsWriter {
    /// The final path of the rejects file.
    public let path: String
    private let temporaryPath: String
    private let handle: FileHandle
    private let rawBytesMax: Int
    private var buffer: [UInt8] = []
    /// Rejections written so far.
    public private(set) var count = 0

    static let flushBytes = 65_536

    /// The start of the default rejects file names (`ingest-KIND-TIME.jsonl`), whose abandoned
    /// temporaries any later run removes (see `removeAbandonedTemporaries`).
    public static let defaultNamePrefix = "ingest-"
    static let temporaryInfix = ".tmp-"

    /// Creates (or truncates) the temporary file next to `path`, after removing the temporaries a
    /// killed run left beside it.
    public init(path: String, limits: IngestLimits = .standard) throws(InputError) {
        self.path = path
        self.temporaryPath = path + Self.temporaryInfix + "\(getpid())"
        self.rawBytesMax = limits.rejectRawBytesMax
        Self.removeAbandonedTemporaries(beside: path)
        guard FileManager.default.createFile(atPath: temporaryPath, contents: nil),
            let handle = FileHandle(forWritingAtPath: temporaryPath)
        else { throw .ioFailure(path: path, detail: "cannot create the rejects file") }
        self.handle = handle
    }

    /// Appends one rejection.
    public func write(_ rejection: Rejection) throws(InputError) {
        buffer += Self.line(for: rejection, rawBytesMax: rawBytesMax)
        count += 1
        if buffer.count >= Self.flushBytes { try flush() }
    }

    /// The current end of the file, to come back to if the file being ingested is refused whole.
    public func checkpoint() throws(InputError) -> (offset: UInt64, count: Int) {
        try flush()
        do {
            return (try handle.offset(), count)
        } catch {
            throw .ioFailure(path: path, detail: "cannot read the rejects file position: \(error)")
        }
    }

    /// Drops everything written after `checkpoint` (record rejections of a file that was then refused
    /// whole: the file-level rejection replaces them).
    public func rollback(to checkpoint: (offset: UInt64, count: Int)) throws(InputError) {
        buffer.removeAll(keepingCapacity: true)
        do {
            try handle.truncate(atOffset: checkpoint.offset)
            try handle.seek(toOffset: checkpoint.offset)
        } catch {
            throw .ioFailure(path: path, detail: "cannot truncate the rejects file: \(error)")
        }
        count = checkpoint.count
    }

    /// Removes `NAME.tmp-PID` files beside `path` that a killed run left: NAME is this file's name or
    /// a default rejects file name, and no process PID is running. A live run's temporary is kept
    /// (another database may share the directory through `--rejects`).
    static func removeAbandonedTemporaries(beside path: String) {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        let name = url.lastPathComponent
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for entry in entries {
            guard let infix = entry.range(of: temporaryInfix, options: .backwards) else { continue }
            let target = String(entry[..<infix.lowerBound])
            guard let pid = pid_t(entry[infix.upperBound...]), pid > 0, pid != getpid() else { continue }
            let isOurs = target == name || (target.hasPrefix(defaultNamePrefix) && target.hasSuffix(".jsonl"))
            guard isOurs, !processIsRunning(pid) else { continue }
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(entry))
        }
    }

    private static func processIsRunning(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    /// Flushes, syncs and renames the file into place.
    public func finish() throws(InputError) {
        try flush()
        do {
            try handle.synchronize()
            try handle.close()
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: temporaryPath, toPath: path)
        } catch {
            throw .ioFailure(path: path, detail: "cannot finish the rejects file: \(error)")
        }
    }

    private func flush() throws(InputError) {
        guard !buffer.isEmpty else { return }
        do {
            try handle.write(contentsOf: Data(buffer))
        } catch {
            throw .ioFailure(path: path, detail: "cannot write the rejects file: \(error)")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// The JSON line for one rejection (exposed for tests and the service, which returns the same shape).
    /// A rejection read back from the ledger (`rawWasCut`) keeps its `raw_truncated` mark.
    public static func line(for rejection: Rejection, rawBytesMax: Int = IngestLimits.rejectRawBytesMax) -> [UInt8] {
        var members: [(key: [UInt8], value: [UInt8])] = []
        func add(_ key: String, string: String) {
            var value: [UInt8] = []
            CanonicalJSON.appendString(string, to: &value)
            members.append((Array(key.utf8), value))
        }
        func add(_ key: String, number: Int) { members.append((Array(key.utf8), Array(String(number).utf8))) }
        add("file", string: rejection.file)
        if let line = rejection.line { add("line", number: line) }
        if let column = rejection.column { add("column", number: column) }
        if let field = rejection.field { add("field", string: field) }
        add("reason", string: rejection.rule.code)
        add("message", string: rejection.message)
        if let raw = rejection.raw {
            add("raw", string: String(decoding: raw.prefix(rawBytesMax), as: UTF8.self))
            if raw.count > rawBytesMax || rejection.rawWasCut { members.append((Array("raw_truncated".utf8), Array("true".utf8))) }
        }
        return CanonicalJSON.object(members) + [0x0A]
    }
}
