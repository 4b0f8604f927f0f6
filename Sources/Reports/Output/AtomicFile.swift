import Foundation
import Ledger

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An operational failure while writing a report file: the destination could not be created,
/// written, synced or renamed into place. `path` is the file the caller asked for.
public struct ReportOutputError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong, as a rule name.
    public enum Code: String, Sendable {
        /// The directory does not exist (exit 66 in the stages).
        case directoryMissing
        /// The temporary file could not be created, written, synced or renamed (exit 74).
        case ioFailed
        /// libxlsxwriter reported an error (exit 74 when it is about the file, 70 otherwise).
        case xlsxLibraryFailed
        /// A streamed table delivered a different number of rows than it declared (the data
        /// changed between counting and reading: count and read in one transaction).
        case rowCountMismatch
    }

    public let code: Code
    public let path: String
    /// The operating system's or the library's own message.
    public let message: String

    public init(_ code: Code, path: String, message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(path): \(message)" }

    static func system(_ code: Code, path: String, _ operation: String) -> ReportOutputError {
        ReportOutputError(code, path: path, message: "\(operation): \(String(cString: strerror(errno)))")
    }
}

/// A file written under a temporary name in its destination's directory and renamed into place
/// only when complete, so a reader (or a crash) never sees a partial report.
///
/// Method: `create(destination)` makes `.<name>.<pid>-<random>.tmp` with `O_CREAT|O_EXCL` beside
/// the destination; `commit()` fsyncs the file, renames it over the destination and fsyncs the
/// directory; `discard()` removes it. Exactly one of the two must be called; `deinit` discards a
/// file that was neither committed nor discarded, so an error path can never leave it behind. A
/// process killed with SIGKILL runs no `deinit`: the next `AtomicFile` for the same destination
/// removes the temporaries of processes no longer running.
final class AtomicFile {
    let destination: URL
    let temporaryPath: String
    private(set) var isFinished = false

    /// Creates the temporary file now, so an unwritable directory fails before any work is done.
    init(destination: URL) throws(ReportOutputError) {
        self.destination = destination
        let directory = destination.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw ReportOutputError(.directoryMissing, path: destination.path, message: "no directory \(directory)")
        }
        Self.removeAbandonedTemporaries(of: destination)
        let suffix = "\(getpid())-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let path = directory + "/." + destination.lastPathComponent + "." + suffix + ".tmp"
        let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .system(.ioFailed, path: destination.path, "create \(path)") }
        close(descriptor)
        self.temporaryPath = path
    }

    deinit {
        if !isFinished { unlink(temporaryPath) }
    }

    /// Removes `.<name>.<pid>-<random>.tmp` beside `destination` whose process `pid` is not running
    /// (a run killed while writing). A live process's temporary is kept: another run may be writing
    /// the same destination.
    static func removeAbandonedTemporaries(of destination: URL) {
        let directory = destination.deletingLastPathComponent().path
        let prefix = "." + destination.lastPathComponent + "."
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for entry in entries where entry.hasPrefix(prefix) && entry.hasSuffix(".tmp") {
            let middle = entry.dropFirst(prefix.count).dropLast(".tmp".count)
            guard let dash = middle.firstIndex(of: "-"), let pid = pid_t(middle[..<dash]), pid > 0, pid != getpid(),
                kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            unlink(directory + "/" + entry)
        }
    }

    /// Syncs the temporary file, renames it onto the destination and syncs the directory.
    func commit() throws(ReportOutputError) {
        precondition(!isFinished, "AtomicFile committed twice")
        defer { if !isFinished { discard() } }
        try Self.sync(path: temporaryPath, destination: destination.path, flags: O_RDONLY)
        guard rename(temporaryPath, destination.path) == 0 else {
            throw .system(.ioFailed, path: destination.path, "rename")
        }
        isFinished = true
        // The rename is durable only once the directory entry is on disk.
        try Self.sync(path: destination.deletingLastPathComponent().path, destination: destination.path,
                      flags: O_RDONLY | O_DIRECTORY)
    }

    /// Removes the temporary file; safe to call more than once.
    func discard() {
        guard !isFinished else { return }
        unlink(temporaryPath)
        isFinished = true
    }

    private static func sync(path: String, destination: String, flags: Int32) throws(ReportOutputError) {
        let descriptor = open(path, flags | O_CLOEXEC)
        guard descriptor >= 0 else { throw .system(.ioFailed, path: destination, "open \(path)") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw .system(.ioFailed, path: destination, "fsync \(path)") }
    }
}

extension ReportOutputError: ClassifiedError {
    /// A missing directory is a missing input (66); file and library failures are I/O (74); a
    /// streamed row count that changed mid-read is a bug (70).
    public var failureClass: FailureClass {
        switch code {
        case .directoryMissing: .inputMissing
        case .ioFailed, .xlsxLibraryFailed: .io
        case .rowCountMismatch: .internal
        }
    }
}

/// Prepares an output directory before a stage changes the ledger, so a directory that cannot be
/// made (74) or written (74) fails the run while the ledger is still untouched.
public enum OutputDirectory {
    /// Creates `directory` and its missing parents (`--out out/reports/2026-11` on a first run);
    /// an existing directory is left as it is. A path that cannot be a directory (a file is in the
    /// way, no permission) is an I/O failure naming the path.
    public static func create(_ directory: URL) throws(ReportOutputError) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ReportOutputError(
                .ioFailed, path: directory.path, message: "cannot create the output directory: \(error.localizedDescription)")
        }
    }

    /// Creates and removes a temporary file in `directory`.
    public static func checkWritable(_ directory: URL) throws(ReportOutputError) {
        let probe = try AtomicFile(destination: directory.appendingPathComponent("write-probe"))
        probe.discard()
    }
}
