import Foundation
import Synchronization

/// Named crash points for the crash tests (TESTPLAN F1): `CREDITS_CRASH_AT=invoice.afterCommit`
/// kills the process with SIGKILL the first time that point is reached, `name:N` the N-th time.
/// Without the variable a crash point does nothing.
enum CrashPoint {
    private static let target: (name: String, hit: Int)? = {
        guard let value = ProcessInfo.processInfo.environment["CREDITS_CRASH_AT"], !value.isEmpty else { return nil }
        let parts = value.split(separator: ":", maxSplits: 1).map(String.init)
        return (parts[0], parts.count > 1 ? Int(parts[1]) ?? 1 : 1)
    }()

    private static let hits = Mutex<[String: Int]>([:])

    /// Dies here, as `kill -9` would, if the environment names this point and hit.
    static func reach(_ name: String) {
        guard let target, target.name == name else { return }
        let count = hits.withLock { hits in
            hits[name, default: 0] += 1
            return hits[name]!
        }
        if count == target.hit { kill(getpid(), SIGKILL) }
    }
}
