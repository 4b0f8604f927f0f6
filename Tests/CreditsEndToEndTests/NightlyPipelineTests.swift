import Foundation
import Ledger
import Testing
import TestSupport

/// Goal: pipelines/nightly.sh as a scheduler runs it, over the bundled fixture nights: the manifest,
/// the exit codes, the ledger digest, reports that tie out, a rerun that changes nothing, a run
/// killed with SIGKILL at a random point and rerun, and two runs started at once.
@Suite(.serialized) struct NightlyPipelineTests {
    static let nights = ["2026-11-26", "2026-11-27", "2026-11-28", "2026-11-29", "2026-11-30"]

    /// A scratch copy of the fixture inbox and everything a run writes.
    final class Site {
        let directory = TemporaryDirectory("nightly")
        var inbox: String { directory.file("inbox") }
        var out: String { directory.file("out") }
        var db: String { directory.file("credits.sqlite") }

        init() throws {
            try FileManager.default.copyItem(atPath: "\(repositoryRoot)/fixtures/nightly/inbox", toPath: inbox)
        }

        func arguments(_ night: String, credits: String = CreditsBinary.path) -> [String] {
            ["\(repositoryRoot)/pipelines/nightly.sh", "--date", night, "--inbox", inbox, "--archive",
             directory.file("archive"), "--out", out, "--db", db, "--config", "\(repositoryRoot)/fixtures/config",
             "--credits", credits]
        }

        func start(
            _ night: String, credits: String = CreditsBinary.path, environment extra: [String: String] = [:]
        ) throws -> Process {
            // The shell must lead its own process group, so a kill can take the whole tree (the
            // shell and the stage it is running), as systemd does with a unit's cgroup. Foundation's
            // Process already starts the child in a new process group; setsid(1) would then fork
            // and exit 0 at once, leaving the run in the background.
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = arguments(night, credits: credits)
            var environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
            environment.removeValue(forKey: "CREDITS_NOW")
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }

        func run(
            _ night: String, credits: String = CreditsBinary.path, environment: [String: String] = [:]
        ) throws -> Int32 {
            let process = try start(night, credits: credits, environment: environment)
            process.waitUntilExit()
            return process.terminationStatus
        }

        /// Runs nightly.sh with extra arguments; the exit code and stderr.
        func run(_ night: String, extra: [String]) throws -> (code: Int32, stderr: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = arguments(night) + extra
            var environment = ProcessInfo.processInfo.environment
            environment.removeValue(forKey: "CREDITS_NOW")
            process.environment = environment
            let errors = Pipe()
            process.standardOutput = FileHandle.nullDevice
            process.standardError = errors
            try process.run()
            let text = String(decoding: errors.fileHandleForReading.readAllRetryingInterrupts(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, text)
        }

        /// Holds the whole-night lock, as another run would, until the returned process is ended.
        func holdNightLock() throws -> Process {
            let holder = Process()
            // One process that takes the lock and then becomes `sleep` (exec keeps the descriptor), so
            // killing it releases the lock and leaves nothing behind.
            holder.executableURL = URL(fileURLWithPath: "/bin/sh")
            holder.arguments = ["-c", #"exec 9>"$0" && flock 9 && exec sleep 120"#, "\(db).nightly.lock"]
            try holder.run()
            // Ready once a non-blocking attempt fails.
            for _ in 0..<200 {
                let probe = Process()
                probe.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
                probe.arguments = ["-n", "\(db).nightly.lock", "true"]
                try probe.run()
                probe.waitUntilExit()
                if probe.terminationStatus != 0 { break }
                usleep(20_000)
            }
            return holder
        }

        func digest() throws -> String {
            let verify = try CreditsBinary.run(["ledger", "verify", "--db", db, "--json"])
            #expect(verify.exitCode == 0, "\(verify.stderr)")
            return try #require((try verify.json()["result"] as? [String: Any])?["digest"] as? String)
        }

        func reportCSVs() throws -> [String: Data] {
            let folder = "\(out)/reports/2026-11"
            var files: [String: Data] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".csv") {
                files[name] = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(name)"))
            }
            return files
        }

        func manifest(_ night: String) throws -> [String: Any] {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(out)/runs/\(night)/manifest.json"))
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
    }

    static func shell(_ command: String) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test func nightsRunInOrder_manifestTiesOut_andARerunChangesNothing() throws {
        let site = try Site()
        for night in Self.nights {
            // Every fixture night has something for a person (rejected records, exceptions, alerts).
            #expect(try site.run(night) == 3, "night \(night)")
        }
        let manifest = try site.manifest("2026-11-28")
        #expect(manifest["exit_code"] as? Int == 3)
        let stages = try #require(manifest["stages"] as? [[String: Any]])
        #expect(stages.map { $0["name"] as? String } == [
            "init", "ingest-events", "ingest-orders", "reconcile-apply", "alerts", "report",
        ])
        #expect(stages.first { $0["name"] as? String == "ingest-events" }?["exit_code"] as? Int == 3)
        let inputs = try #require(manifest["inputs"] as? [[String: Any]])
        #expect(inputs.map { $0["file"] as? String } == ["events-2026-11-28.jsonl", "orders-legacy-2026-11-28.json"])
        #expect(inputs.allSatisfy { ($0["sha256"] as? String)?.count == 64 })
        let outputs = try #require(manifest["outputs"] as? [[String: Any]])
        #expect(outputs.contains { $0["file"] as? String == "reports/2026-11/credits-report-2026-11.xlsx" })
        #expect(manifest["ledger_digest_before"] as? String != manifest["ledger_digest_after"] as? String)
        // Issue 15, D17: the first run of a date used to write an empty SHA256SUMS. Every archived
        // input has its line, and `sha256sum -c` accepts the archive.
        let archived = site.directory.file("archive/2026-11-28")
        let sums = try String(contentsOfFile: "\(archived)/SHA256SUMS", encoding: .utf8)
        for input in inputs { #expect(sums.contains("  \(input["file"] as? String ?? "?")\n"), "\(sums)") }
        #expect(sums.split(separator: "\n").count == inputs.count)
        #expect(try Self.shell("cd '\(archived)' && sha256sum -c --quiet SHA256SUMS") == 0)

        // Reports tie out: the summary's per-organisation rows balance.
        let summary = try String(contentsOfFile: "\(site.out)/reports/2026-11/credits-report-2026-11-summary.csv", encoding: .utf8)
        #expect(summary.contains("met-police"))

        let digest = try site.digest()
        let reports = try site.reportCSVs()
        for night in Self.nights { #expect(try site.run(night) != 1, "rerun of \(night) must not fail") }
        #expect(try site.digest() == digest, "rerunning the nights changes nothing")
        #expect(try site.reportCSVs() == reports, "byte-identical CSV after the rerun")
    }

    @Test func killedAtARandomPoint_thenRerun_matchesACleanRun() throws {
        let clean = try Site()
        for night in Self.nights.prefix(3) { _ = try clean.run(night) }
        var random = SeededRandom(label: "nightly kill")
        let killed = try Site()
        for night in Self.nights.prefix(3) {
            let process = try killed.start(night)
            usleep(UInt32.random(in: 50_000...1_500_000, using: &random))
            kill(-process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let code = try killed.run(night)
            #expect(code == 3 || code == 0, "night \(night) after a kill exited \(code)")
        }
        #expect(try killed.digest() == clean.digest())
        #expect(try killed.reportCSVs() == clean.reportCSVs())
    }

    /// What the systemd unit and the crontab rely on: exit 75 is retried (a bounded number of times),
    /// nothing else is.
    @Test func retries_only75_andAtMostTheGivenCount() throws {
        let site = try Site()
        let holder = try site.holdNightLock()
        let refused = try site.run("2026-11-26", extra: ["--retries", "2", "--retry-delay", "0"])
        #expect(refused.code == 75, "\(refused.stderr)")
        #expect(refused.stderr.components(separatedBy: "exit 75 (another run holds a lock); retry").count - 1 == 2)

        let badDate = try site.run("2026-02-30", extra: ["--retries", "3", "--retry-delay", "0"])
        #expect(badDate.code == 64, "\(badDate.stderr)")
        #expect(!badDate.stderr.contains("retry"), "a usage error is not retried")
        #expect(try site.run("2026-11-26", extra: ["--retries", "many"]).code == 64)

        // The lock is released while the retries wait: the next attempt runs the night.
        // SIGKILL, not terminate(): a child may inherit a blocked SIGTERM from the test's thread.
        let released = Thread {
            usleep(300_000)
            kill(holder.processIdentifier, SIGKILL)
        }
        released.start()
        let retried = try site.run("2026-11-26", extra: ["--retries", "50", "--retry-delay", "1"])
        holder.waitUntilExit()
        #expect(retried.code == 3 || retried.code == 0, "\(retried.stderr)")
        #expect(retried.stderr.contains("retry 1 of 50"), "\(retried.stderr)")
        #expect(try site.manifest("2026-11-26")["exit_code"] as? Int == Int(retried.code))
    }

    /// Issue 13: with `credits serve` recording usage for an organisation the night charges, all
    /// through the night, the night used to find its plan stale and retry; reconcile and apply are now
    /// one transaction, so nothing can post between the plan and its postings. The night succeeds on
    /// its first attempt, every usage call answered 201 is charged exactly once, and verify passes.
    @Test func liveUsageThroughTheNight_neverMakesItStale() async throws {
        let site = try Site()
        #expect(try site.run("2026-11-26") == 3)
        let key = try CreditsBinary.run(["keys", "create", "--org", "met-police", "--db", site.db]).stdout
            .split(separator: "\n").first.map(String.init) ?? ""
        let (server, port) = try KeysAndServeCommandTests.serve(db: site.db)
        defer { if server.isRunning { server.terminate() } }

        let night = try site.start("2026-11-27")
        var charged: [String] = []
        var refused: [Int] = []
        while night.isRunning {
            let eventID = "live-\(charged.count + refused.count)"
            let status = try await LiveUsageDuringApplyTests.recordUsage(
                port: port, key: key, eventID: eventID, credits: "1", at: "2026-11-27T12:00:00Z")
            if status == 201 { charged.append(eventID) } else { refused.append(status) }
        }
        night.waitUntilExit()
        server.terminate()
        server.waitUntilExit()

        #expect(night.terminationStatus == 3)
        let stages = try #require(try site.manifest("2026-11-27")["stages"] as? [[String: Any]])
        #expect(stages.map { "\($0["name"] as? String ?? "?") \($0["exit_code"] as? Int ?? -1)" }.dropFirst(3).first
                    .map { $0.hasPrefix("reconcile-apply ") && !$0.hasSuffix(" 75") } == true, "\(stages)")
        #expect(!charged.isEmpty && refused.isEmpty, "\(charged.count) charged, refused: \(refused)")
        #expect(try Self.uncharged(charged, db: site.db).isEmpty)
        _ = try site.digest()
    }

    /// Those of `eventIDs` that no deduction charges.
    static func uncharged(_ eventIDs: [String], db: String) throws -> [String] {
        let ledger = try LedgerDatabase.open(at: db)
        return try ledger.read { reader in try eventIDs.filter { try reader.deductionCharging(costEventID: $0) == nil } }
    }

    @Test func twoRunsAtOnce_oneExits75() throws {
        let site = try Site()
        let first = try site.start("2026-11-26")
        usleep(150_000)
        let second = try site.run("2026-11-26")
        first.waitUntilExit()
        #expect(Set([second, first.terminationStatus]) == [75, 3], "one runs, the other exits 75")
    }
}
