import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The standard `process_*` metrics Prometheus clients export (the names and units of client_golang's
/// process collector), read from `/proc/self` at every scrape: CPU seconds, resident memory, open and
/// maximum file descriptors, and the start time. On a system without `/proc` the families are listed
/// without samples.
public enum ProcessMetrics {
    public static let cpuSeconds = "process_cpu_seconds_total"
    public static let residentMemory = "process_resident_memory_bytes"
    public static let openFileDescriptors = "process_open_fds"
    public static let maxFileDescriptors = "process_max_fds"
    public static let startTime = "process_start_time_seconds"

    static func register(in registry: MetricsRegistry) {
        registry.sampled(cpuSeconds, type: .counter, help: "Total user and system CPU time spent in seconds.") {
            sample(ProcStat.read().map { Double($0.userTicks + $0.systemTicks) / Double(ticksPerSecond) })
        }
        registry.sampled(residentMemory, help: "Resident memory size in bytes.") {
            sample(ProcStat.read().map { Double($0.residentPages * Int64(sysconf(Int32(_SC_PAGESIZE)))) })
        }
        registry.sampled(openFileDescriptors, help: "Number of open file descriptors.") {
            sample((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")).map { Double($0.count) })
        }
        registry.sampled(maxFileDescriptors, help: "Maximum number of open file descriptors.") {
            var limit = rlimit()
            #if canImport(Glibc)
            let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
            #else
            let resource = RLIMIT_NOFILE
            #endif
            guard getrlimit(resource, &limit) == 0 else { return [] }
            return sample(Double(limit.rlim_cur))
        }
        registry.sampled(startTime, help: "Start time of the process since unix epoch in seconds.") {
            guard let stat = ProcStat.read(), let bootTime = bootTimeSeconds() else { return [] }
            return sample(Double(bootTime) + Double(stat.startTicks) / Double(ticksPerSecond))
        }
    }

    private static let ticksPerSecond = max(1, sysconf(Int32(_SC_CLK_TCK)))

    private static func sample(_ value: Double?) -> [GaugeSample] {
        guard let value else { return [] }
        // Whole numbers print without a fraction; CPU seconds and the start time keep theirs.
        let text = value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        return [GaugeSample(value: text)]
    }

    /// `btime` from `/proc/stat`: when the system booted, in seconds since the epoch.
    private static func bootTimeSeconds() -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Int64(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}

/// The fields of `/proc/self/stat` the process gauges need (proc(5)): utime (14), stime (15),
/// starttime (22), all in clock ticks, and rss (24) in pages.
struct ProcStat {
    let userTicks: Int64
    let systemTicks: Int64
    let startTicks: Int64
    let residentPages: Int64

    static func read() -> ProcStat? {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8) else { return nil }
        return parse(text)
    }

    /// The command name (field 2) is in parentheses and may hold spaces and parentheses itself, so the
    /// fields are counted from the last `)`.
    static func parse(_ text: String) -> ProcStat? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        // After ")": field 3 (state) is at index 0.
        let fields = text[text.index(after: close)...].split(separator: " ")
        func field(_ number: Int) -> Int64? {
            let index = number - 3
            return fields.indices.contains(index) ? Int64(fields[index]) : nil
        }
        guard let user = field(14), let system = field(15), let start = field(22), let rss = field(24) else {
            return nil
        }
        return ProcStat(userTicks: user, systemTicks: system, startTicks: start, residentPages: rss)
    }
}
