import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Named places where a test can make the process die as `kill -9` would, to prove a stage is
/// safe to kill at that point: `CREDITS_CRASH_AT=apply.beforeCommit` (or `name:N` for the Nth time
/// the point is reached). Unset in production, where `hit` costs one dictionary lookup.
public enum CrashPoint {
    private static let target: (name: String, count: Int)? = {
        guard let value = ProcessInfo.processInfo.environment["CREDITS_CRASH_AT"], !value.isEmpty else { return nil }
        let parts = value.split(separator: ":", maxSplits: 1)
        return (String(parts[0]), parts.count > 1 ? Int(parts[1]) ?? 1 : 1)
    }()

    private nonisolated(unsafe) static var hits = 0

    /// Dies with SIGKILL if `name` is the configured crash point (on its Nth hit).
    public static func hit(_ name: String) {
        guard let target, target.name == name else { return }
        hits += 1
        if hits >= target.count { kill(getpid(), SIGKILL) }
    }
}
