#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The person running a command, as the audit trail names them when they do not say (`--actor`, `--by`).
enum OperatorName {
    /// The login name of the user running the command, as the system knows it (not `$USER`, which anyone
    /// can set); `uid-<n>` when the user has no name.
    static func login() -> String {
        if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return "uid-\(getuid())"
    }
}
