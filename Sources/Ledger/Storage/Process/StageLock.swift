import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A lock so two runs of the same stage on the same database never overlap.
///
/// It is an advisory `flock(2)` on `<database>.<stage>.lock`. The kernel drops the lock when the
/// holding process exits for any reason, `kill -9` included, so a lock left by a killed run is
/// simply free: the next run takes it over without guessing from PIDs or timestamps. The file
/// keeps the holder's PID and start time for people diagnosing a 75.
public final class StageLock {
    private let descriptor: Int32
    public let path: String

    public struct Held: ClassifiedError {
        public let stage: String
        public let path: String
        public let holder: String
        public var failureClass: FailureClass { .locked }
        public var description: String {
            "another `credits \(stage)` run holds \(path) (\(holder)); try again later or pass --wait"
        }
    }

    public struct Failed: ClassifiedError {
        public let path: String
        public let reason: String
        public var failureClass: FailureClass { .io }
        public var description: String { "\(path): cannot create the lock file (\(reason))" }
    }

    /// Takes the lock for `stage` on `databasePath`, or throws `Held` at once (or waits, if asked).
    public init(stage: String, databasePath: String, wait: Bool = false, now: Instant) throws {
        let path = "\(databasePath).\(stage.replacingOccurrences(of: " ", with: "-")).lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Failed(path: path, reason: String(cString: strerror(errno))) }
        if flock(descriptor, wait ? LOCK_EX : LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown holder"
            close(descriptor)
            throw Held(stage: stage, path: path, holder: holder.isEmpty ? "unknown holder" : holder)
        }
        let note = "pid \(getpid()) since \(now.iso8601)\n"
        _ = ftruncate(descriptor, 0)
        _ = note.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        _ = ftruncate(descriptor, 0)
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
