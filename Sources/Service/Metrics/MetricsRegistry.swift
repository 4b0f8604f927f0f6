import Synchronization

/// A small in-process metrics registry rendered in the Prometheus text exposition format (0.0.4).
///
/// Counters and one latency histogram family are enough for the service; pulling in swift-metrics plus a
/// Prometheus backend would cost a dependency for a page of code. Durations are kept as whole microseconds
/// so no floating point is involved anywhere, including the rendered `_sum`.
public final class MetricsRegistry: Sendable {
    /// Histogram bucket upper bounds in microseconds (1 ms .. 10 s).
    public static let latencyBucketsMicroseconds: [Int64] = [
        1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
        5_000_000, 10_000_000,
    ]

    private struct SeriesKey: Hashable, Comparable {
        let name: String
        let labels: [Label]

        static func < (lhs: SeriesKey, rhs: SeriesKey) -> Bool {
            (lhs.name, lhs.labels.rendered) < (rhs.name, rhs.labels.rendered)
        }
    }

    private struct Histogram {
        var bucketCounts: [Int64]
        var count: Int64 = 0
        var sumMicroseconds: Int64 = 0

        mutating func record(_ microseconds: Int64, bounds: [Int64]) {
            for (index, bound) in bounds.enumerated() where microseconds <= bound {
                bucketCounts[index] += 1
            }
            count += 1
            sumMicroseconds += max(0, microseconds)
        }
    }

    private struct State {
        var help: [String: (type: String, text: String)] = [:]
        var counters: [SeriesKey: Int64] = [:]
        var histograms: [SeriesKey: Histogram] = [:]
        var gauges: [String: @Sendable () -> [GaugeSample]] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Declares a metric family so it is listed (with HELP and TYPE) even before its first sample.
    public func describe(_ name: String, type: MetricType, help: String) {
        state.withLock { $0.help[name] = (type.rawValue, help) }
    }

    /// Adds `amount` to the counter `name` with the given labels.
    public func increment(_ name: String, labels: [Label] = [], by amount: Int64 = 1) {
        let key = SeriesKey(name: name, labels: labels.sorted())
        state.withLock { $0.counters[key, default: 0] += amount }
    }

    /// Records one observation in the latency histogram `name`.
    public func observe(_ name: String, labels: [Label] = [], microseconds: Int64) {
        let key = SeriesKey(name: name, labels: labels.sorted())
        let bounds = Self.latencyBucketsMicroseconds
        state.withLock { state in
            // Updated in place: a copy taken out of the dictionary would copy its buckets on every request.
            state.histograms[key, default: Histogram(bucketCounts: Array(repeating: 0, count: bounds.count))]
                .record(microseconds, bounds: bounds)
        }
    }

    /// Declares the family `name` whose samples `read` returns at every scrape (process figures, build
    /// information): values read where they live rather than kept up to date here. Usually gauges; a
    /// counter kept elsewhere (the process's CPU seconds) keeps its counter type.
    public func sampled(
        _ name: String, type: MetricType = .gauge, help: String, read: @escaping @Sendable () -> [GaugeSample]
    ) {
        state.withLock { state in
            state.help[name] = (type.rawValue, help)
            state.gauges[name] = read
        }
    }

    /// The current value of a counter (tests and the gate's own bookkeeping).
    public func counterValue(_ name: String, labels: [Label] = []) -> Int64 {
        let key = SeriesKey(name: name, labels: labels.sorted())
        return state.withLock { $0.counters[key] ?? 0 }
    }

    /// Every family in the Prometheus text format, families and series in a stable order.
    public func render() -> String {
        let snapshot = state.withLock { $0 }
        // Read outside the lock: a gauge may do I/O (/proc) and must not hold up the request path.
        let gaugeSamples = snapshot.gauges.mapValues { $0() }
        var names = Set(snapshot.help.keys)
        names.formUnion(snapshot.counters.keys.map(\.name))
        names.formUnion(snapshot.histograms.keys.map(\.name))
        var output = ""
        for name in names.sorted() {
            let isHistogram = snapshot.histograms.keys.contains { $0.name == name }
            let meta = snapshot.help[name] ?? (isHistogram ? "histogram" : "counter", name)
            output += "# HELP \(name) \(Self.escapeHelp(meta.text))\n# TYPE \(name) \(meta.type)\n"
            for (key, value) in snapshot.counters.filter({ $0.key.name == name }).sorted(by: { $0.key < $1.key }) {
                output += "\(name)\(key.labels.rendered) \(value)\n"
            }
            for sample in gaugeSamples[name] ?? [] {
                output += "\(name)\(sample.labels.sorted().rendered) \(sample.value)\n"
            }
            let histograms = snapshot.histograms.filter { $0.key.name == name }
            for (key, histogram) in histograms.sorted(by: { $0.key < $1.key }) {
                output += Self.render(name: name, labels: key.labels, histogram: histogram)
            }
        }
        return output
    }

    private static func render(name: String, labels: [Label], histogram: Histogram) -> String {
        var output = ""
        for (index, bound) in latencyBucketsMicroseconds.enumerated() {
            let le = Label("le", secondsText(bound))
            output += "\(name)_bucket\((labels + [le]).rendered) \(histogram.bucketCounts[index])\n"
        }
        output += "\(name)_bucket\((labels + [Label("le", "+Inf")]).rendered) \(histogram.count)\n"
        output += "\(name)_sum\(labels.rendered) \(secondsText(histogram.sumMicroseconds))\n"
        output += "\(name)_count\(labels.rendered) \(histogram.count)\n"
        return output
    }

    /// Whole microseconds as decimal seconds without trailing zeros: 2500 -> "0.0025", 1000000 -> "1".
    static func secondsText(_ microseconds: Int64) -> String {
        let whole = microseconds / 1_000_000
        var fraction = String(microseconds % 1_000_000)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return fraction.isEmpty ? "\(whole)" : "\(whole).\(fraction)"
    }

    private static func escapeHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}

/// The metric kinds this registry renders.
public enum MetricType: String, Sendable {
    case counter
    case histogram
    case gauge
}

/// One sample of a gauge family: its labels and its value as exposition text (`12`, `0.25`).
public struct GaugeSample: Sendable {
    public let labels: [Label]
    public let value: String

    public init(labels: [Label] = [], value: String) {
        self.labels = labels
        self.value = value
    }
}

/// One `name="value"` label pair.
public struct Label: Sendable, Hashable, Comparable {
    public let name: String
    public let value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    public static func < (lhs: Label, rhs: Label) -> Bool { (lhs.name, lhs.value) < (rhs.name, rhs.value) }
}

extension [Label] {
    /// `{a="1",b="2"}`, or nothing when there are no labels. Values are escaped per the exposition format.
    var rendered: String {
        guard !isEmpty else { return "" }
        let pairs = map { label in
            let escaped = label.value.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
            return "\(label.name)=\"\(escaped)\""
        }
        return "{" + pairs.joined(separator: ",") + "}"
    }
}

/// The metric names the service emits, in one place so dashboards and tests agree.
public enum ServiceMetrics {
    public static let requests = "credits_http_requests_total"
    public static let requestDuration = "credits_http_request_duration_seconds"
    public static let webhookDeliveries = "credits_webhook_deliveries_total"
    public static let gateDecisions = "credits_gate_decisions_total"
    public static let graphQLDocumentCache = "credits_graphql_document_cache_total"
    public static let graphQLRejections = "credits_graphql_rejections_total"
    public static let graphQLExecutions = "credits_graphql_executions_total"
    public static let buildInfo = "credits_build_info"
    public static let revolutRequests = "credits_revolut_requests_total"
    public static let revolutRequestDuration = "credits_revolut_request_duration_seconds"

    /// Declares every family, so `/metrics` lists them from the first scrape.
    public static func describeAll(in registry: MetricsRegistry) {
        registry.describe(requests, type: .counter, help: "HTTP requests by method, route and status.")
        registry.describe(requestDuration, type: .histogram, help: "HTTP request latency by route.")
        registry.describe(webhookDeliveries, type: .counter, help: "Revolut webhook deliveries by outcome.")
        registry.describe(gateDecisions, type: .counter, help: "Credit gate decisions (allowed, refused).")
        registry.describe(graphQLDocumentCache, type: .counter, help: "GraphQL document cache lookups by result.")
        registry.describe(graphQLRejections, type: .counter, help: "GraphQL requests refused before execution.")
        registry.describe(
            graphQLExecutions, type: .counter,
            help: "GraphQL operations executed, by path: a compiled plan or the general executor.")
        registry.describe(
            revolutRequests, type: .counter,
            help: "Revolut Merchant API calls (each attempt) by operation and outcome (HTTP status, timeout, ...).")
        registry.describe(
            revolutRequestDuration, type: .histogram, help: "Revolut Merchant API call latency by operation.")
        ProcessMetrics.register(in: registry)
    }

    /// `credits_build_info{version,commit} 1`: which build is answering, to join with any other series.
    public static func registerBuild(version: String, commit: String, in registry: MetricsRegistry) {
        registry.sampled(buildInfo, help: "The running build: version and git commit (always 1).") {
            [GaugeSample(labels: [Label("version", version), Label("commit", commit)], value: "1")]
        }
    }
}
