import Crypto
import Foundation
import Testing
import TestSupport

/// Goal: what a log shipper and Prometheus get from a running `credits serve`: every stderr line one JSON
/// object (the default when stderr is not a terminal), one request id per line taken from `X-Request-Id`,
/// else `traceparent`, else generated at a fixed length; the caller on request lines; Revolut calls logged
/// with the id of the request that made them and counted on `/metrics`, beside the `process_*` gauges and
/// `credits_build_info`, in an exposition Prometheus's `promtool check metrics` accepts without a lint.
@Suite(.serialized) struct ServeObservabilityTests {
    let directory = TemporaryDirectory("e2e-observe")
    var db: String { directory.file("ledger.sqlite") }
    static let webhookSecret = "wsk_observability_test"

    func prepare() throws -> String {
        #expect(try CreditsBinary.run(["init", "--db", db, "--config", "\(repositoryRoot)/fixtures/config"]).exitCode == 0)
        let created = try CreditsBinary.run(["keys", "create", "--org", "met-police", "--db", db, "--json"])
        return try #require((try created.json()["result"] as? [String: Any])?["key"] as? String)
    }

    static func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { line in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return try #require(object, "not a JSON object: \(line)")
        }
    }

    static func signedWebhook(_ body: String) -> [String: String] {
        let timestamp = String(Int64(Date().timeIntervalSince1970 * 1000))
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("v1.\(timestamp).\(body)".utf8), using: SymmetricKey(data: Array(webhookSecret.utf8)))
        return [
            "Revolut-Request-Timestamp": timestamp,
            "Revolut-Signature": "v1=" + mac.map { String(format: "%02x", $0) }.joined(),
            "Content-Type": "application/json",
        ]
    }

    @Test func jsonLogs_oneRequestIDPerLine_callerOnRequestLines_revolutCallsCarryTheRequestID() async throws {
        let key = try prepare()
        let revolut = try LoopbackHTTPServer(statuses: [404])
        defer { revolut.stop() }
        // No --log-format: stderr is a pipe, so JSON is the default.
        let server = try ServeProcess(
            ["--db", db, "--revolut-base-url", "http://127.0.0.1:\(revolut.port)"],
            environment: ["CREDITS_REVOLUT_SECRET_KEY": "sk_test", "CREDITS_REVOLUT_WEBHOOK_SECRETS": Self.webhookSecret])
        defer { server.stop() }

        let given = try await server.request("/healthz", headers: ["X-Request-Id": "client-chosen-id.1"])
        #expect(given.status == 200)
        #expect(given.headers["X-Request-Id"] as? String == "client-chosen-id.1")
        let traced = try await server.request(
            "/healthz", headers: ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"])
        #expect(traced.headers["X-Request-Id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        var generated: [String] = []
        for _ in 0..<20 {
            let plain = try await server.request("/healthz", headers: ["traceparent": "00-zz-bad-01"])
            generated.append(try #require(plain.headers["X-Request-Id"] as? String))
        }
        #expect(Set(generated).count == 20)
        #expect(generated.allSatisfy { $0.count == 32 && $0.allSatisfy { "0123456789abcdef".contains($0) } }, "\(generated)")

        let graphQL = try await server.request(
            "/graphql", method: "POST",
            headers: ["Authorization": "Bearer \(key)", "Content-Type": "application/json", "X-Request-Id": "gql-1"],
            body: #"{"query":"{ creditBalance(organisationId: \"met-police\") { currency } }"}"#)
        #expect(graphQL.status == 200, "\(graphQL.body)")

        let body = #"{"event":"ORDER_COMPLETED","order_id":"ord-observability-1"}"#
        var headers = Self.signedWebhook(body)
        headers["X-Request-Id"] = "webhook-1"
        let webhook = try await server.request("/webhooks/revolut", method: "POST", headers: headers, body: body)
        #expect(webhook.status == 204 || webhook.status == 503, "\(webhook.body)")

        #expect(server.stop() == 0)
        let lines = try Self.jsonLines(server.stderrText)
        for line in lines {
            #expect(line["ts"] is String && line["level"] is String && line["msg"] is String, "\(line)")
            #expect(line["hb.request.id"] == nil, "one request id per line: \(line)")
        }
        let requests = lines.filter { $0["msg"] as? String == "request" }
        #expect(requests.count == 24)
        #expect(Set(requests.compactMap { $0["request_id"] as? String }).isSuperset(of: ["client-chosen-id.1", "gql-1", "webhook-1"]))
        let graphQLLine = try #require(requests.first { $0["request_id"] as? String == "gql-1" })
        #expect(graphQLLine["caller"] as? String == "org:met-police")
        #expect(graphQLLine["status"] as? Int == 200)
        #expect(requests.first { $0["request_id"] as? String == "client-chosen-id.1" }?["caller"] == nil)

        let call = try #require(lines.first { $0["msg"] as? String == "revolut call" }, "\(lines)")
        #expect(call["request_id"] as? String == "webhook-1")
        #expect(call["operation"] as? String == "retrieve_order")
        #expect(call["result"] as? String == "404")
        #expect(revolut.requests.first?.path == "/api/orders/ord-observability-1")
    }

    @Test func metrics_processGauges_buildInfo_andRevolutCalls() async throws {
        _ = try prepare()
        let revolut = try LoopbackHTTPServer(statuses: [404])
        defer { revolut.stop() }
        let server = try ServeProcess(
            ["--db", db, "--log-format", "text", "--revolut-base-url", "http://127.0.0.1:\(revolut.port)"],
            environment: ["CREDITS_REVOLUT_SECRET_KEY": "sk_test", "CREDITS_REVOLUT_WEBHOOK_SECRETS": Self.webhookSecret])
        defer { server.stop() }
        let body = #"{"event":"ORDER_COMPLETED","order_id":"ord-metrics-1"}"#
        _ = try await server.request("/webhooks/revolut", method: "POST", headers: Self.signedWebhook(body), body: body)

        let scrape = try await server.request("/metrics")
        #expect(scrape.status == 200)
        var samples: [String: Double] = [:]
        for line in scrape.body.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            samples[String(parts[0])] = Double(parts[1])
        }
        let now = Date().timeIntervalSince1970
        let start = try #require(samples["process_start_time_seconds"])
        #expect(start > now - 600 && start <= now + 1, "started within the test: \(start) vs \(now)")
        #expect(try #require(samples["process_cpu_seconds_total"]) > 0)
        #expect(try #require(samples["process_resident_memory_bytes"]) > 1_000_000)
        let open = try #require(samples["process_open_fds"])
        let maximum = try #require(samples["process_max_fds"])
        #expect(open >= 3 && open <= maximum)
        #expect(scrape.body.contains("# TYPE process_cpu_seconds_total counter"))
        for family in ["process_resident_memory_bytes", "process_open_fds", "process_max_fds", "process_start_time_seconds"] {
            #expect(scrape.body.contains("# TYPE \(family) gauge"))
        }
        let commit = CommandLineContractTests.stampedCommit
        let version = try CreditsBinary.run(["--version"]).stdout.split(separator: " ").first.map(String.init) ?? ""
        #expect(samples["credits_build_info{commit=\"\(commit)\",version=\"\(version)\"}"] == 1, "\(scrape.body)")
        #expect(samples["credits_revolut_requests_total{operation=\"retrieve_order\",outcome=\"404\"}"] == 1, "\(scrape.body)")
        #expect(samples["credits_revolut_request_duration_seconds_count{operation=\"retrieve_order\"}"] == 1)
        // The text format is swift-log's: not JSON.
        #expect(!server.stderrText.hasPrefix("{"))
        try Self.lintWithPromtool(scrape.body)
    }

    /// Prometheus's own linter on a scrape (scripts/setup installs it): names, types, HELP, units.
    static func lintWithPromtool(_ exposition: String) throws {
        let promtool = "/usr/bin/promtool"
        try #require(FileManager.default.isExecutableFile(atPath: promtool), "promtool is missing: run scripts/setup")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: promtool)
        process.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(exposition.utf8))
        try input.fileHandleForWriting.close()
        let report = String(decoding: output.fileHandleForReading.readAllRetryingInterrupts(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "promtool check metrics: \(report)")
        #expect(report.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "promtool lint: \(report)")
    }
}
