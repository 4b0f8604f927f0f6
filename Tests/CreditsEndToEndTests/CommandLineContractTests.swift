import Foundation
import Testing
import TestSupport

/// Goal: what a shell user and a scheduler see from the `credits` binary itself: `--version` and the build
/// in every `--json` envelope, secrets only where asked for, usage errors that are usage errors (64, with
/// the JSON envelope under `--json`), documented exit codes for a server that cannot listen, and YAML
/// configuration errors that name the file and the line.
@Suite struct CommandLineContractTests {
    let directory = TemporaryDirectory("e2e-cli")
    var db: String { directory.file("ledger.sqlite") }

    /// The commit the build recorded (scripts/stamp-commit), or `unknown` for a build that skipped it.
    static var stampedCommit: String {
        let header = "\(repositoryRoot)/Sources/CBuildInfo/credits_commit.h"
        guard let text = try? String(contentsOfFile: header, encoding: .utf8),
            let range = text.range(of: #""[^"]*""#, options: .regularExpression)
        else { return "unknown" }
        return String(text[range].dropFirst().dropLast())
    }

    @Test func version_printsTheVersionAndCommit_andEveryEnvelopeCarriesThem() throws {
        let version = try CreditsBinary.run(["--version"])
        #expect(version.exitCode == 0, "\(version.stderr)")
        let line = version.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(line.range(of: #"^[0-9]+\.[0-9]+\.[0-9]+ \(commit [^)]+\)$"#, options: .regularExpression) != nil, "\(line)")
        let commit = Self.stampedCommit
        #expect(line.hasSuffix("(commit \(commit))"), "\(line) should name \(commit)")
        if commit != "unknown" {
            #expect(commit.range(of: #"^[0-9a-f]{40}(-dirty)?$"#, options: .regularExpression) != nil, "\(commit)")
        }

        #expect(try CreditsBinary.run(["init", "--db", db, "--config", "\(repositoryRoot)/fixtures/config"]).exitCode == 0)
        let verify = try CreditsBinary.run(["ledger", "verify", "--db", db, "--json"])
        let envelope = try verify.json()
        #expect(envelope["commit"] as? String == commit)
        #expect(line.hasPrefix("\(try #require(envelope["version"] as? String)) "))
    }

    @Test func keysCreateJSON_printsTheSecretOnlyInTheSummary() throws {
        #expect(try CreditsBinary.run(["init", "--db", db, "--config", "\(repositoryRoot)/fixtures/config"]).exitCode == 0)
        let created = try CreditsBinary.run(["keys", "create", "--org", "met-police", "--db", db, "--json"])
        #expect(created.exitCode == 0, "\(created.stderr)")
        let key = try #require((try created.json()["result"] as? [String: Any])?["key"] as? String)
        #expect(!created.stderr.contains(key), "stderr: \(created.stderr)")
        #expect(created.stderr.contains("shown once"))
        let human = try CreditsBinary.run(["keys", "create", "--org", "met-police", "--db", db])
        #expect(human.stdout.hasPrefix("ck_"), "without --json the key is printed for the person: \(human.stdout)")
    }

    @Test func serveUsageErrors_exit64_listTheChoices_andPrintTheEnvelopeWithJSON() throws {
        let port = try CreditsBinary.run(["serve", "--db", db, "--port", "99999"])
        #expect(port.exitCode == 64, "\(port.stderr)")
        #expect(port.stderr.contains("--port 99999"))

        let level = try CreditsBinary.run(["serve", "--db", db, "--log-level", "loud"])
        #expect(level.exitCode == 64, "\(level.stderr)")
        for name in ["trace", "debug", "info", "notice", "warning", "error", "critical"] {
            #expect(level.stderr.contains("- \(name)\n"), "valid levels listed: \(level.stderr)")
        }
        let format = try CreditsBinary.run(["serve", "--db", db, "--log-format", "xml"])
        #expect(format.exitCode == 64, "\(format.stderr)")

        let host = try CreditsBinary.run(["serve", "--db", db, "--host", "not a host!"])
        #expect(host.exitCode == 64, "\(host.stderr)")

        let json = try CreditsBinary.run(["serve", "--db", db, "--port", "99999", "--json"])
        #expect(json.exitCode == 64)
        let envelope = try json.json()
        #expect(envelope["command"] as? String == "serve")
        #expect(envelope["ok"] as? Bool == false)
        #expect(envelope["exitCode"] as? Int == 64)
        let error = try #require(envelope["error"] as? [String: Any])
        #expect(error["kind"] as? String == "usage")
        #expect((error["message"] as? String)?.contains("--port 99999") == true)

        let unknownOption = try CreditsBinary.run(["keys", "create", "--orgg", "x", "--json"])
        #expect(unknownOption.exitCode == 64)
        #expect(try unknownOption.json()["command"] as? String == "keys create")
    }

    /// 192.0.2.1 is TEST-NET-1 (RFC 5737): a valid address no machine running the tests owns.
    @Test func serveOnAnAddressItCannotBind_exits74() throws {
        #expect(try CreditsBinary.run(["init", "--db", db, "--config", "\(repositoryRoot)/fixtures/config"]).exitCode == 0)
        let result = try CreditsBinary.run(["serve", "--db", db, "--host", "192.0.2.1", "--port", "0"])
        #expect(result.exitCode == 74, "\(result.stderr)")
        #expect(result.stderr.contains("cannot listen on 192.0.2.1"), "\(result.stderr)")
        // stderr is a pipe, so the lines are JSON, the failure included.
        for line in result.stderr.split(separator: "\n") {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any], "\(line)")
        }
    }

    /// A copy of the fixture configuration with one file rewritten.
    func configuration(_ file: String, _ edit: (String) -> String) throws -> String {
        let folder = directory.file("config")
        try FileManager.default.copyItem(atPath: "\(repositoryRoot)/fixtures/config", toPath: folder)
        let path = "\(folder)/\(file)"
        try edit(try String(contentsOfFile: path, encoding: .utf8)).write(toFile: path, atomically: true, encoding: .utf8)
        return folder
    }

    /// The 1-based line of the first line of `text` containing `needle`.
    static func line(of needle: String, in text: String) throws -> Int {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return try #require(lines.firstIndex { $0.contains(needle) }) + 1
    }

    @Test func yamlValueError_namesTheFileAndLine() throws {
        let fixture = try String(contentsOfFile: "\(repositoryRoot)/fixtures/config/organisations.yaml", encoding: .utf8)
        let zone = try #require(fixture.range(of: #"time_zone: [^\n]+"#, options: .regularExpression))
        let folder = try configuration("organisations.yaml") { $0.replacingCharacters(in: zone, with: "time_zone: Mars/Base") }
        let expected = try Self.line(of: "Mars/Base", in: String(contentsOfFile: "\(folder)/organisations.yaml", encoding: .utf8))
        let result = try CreditsBinary.run(["init", "--db", db, "--config", folder])
        #expect(result.exitCode == 65, "\(result.stderr)")
        #expect(result.stderr.contains("organisations.yaml:\(expected): "), "\(result.stderr)")
        #expect(result.stderr.contains("Mars/Base"))
    }

    @Test func yamlSyntaxError_namesTheFileAndLine() throws {
        let folder = try configuration("plans.yaml") { $0 + "\n- id: [unclosed\n" }
        let expected = try Self.line(of: "[unclosed", in: String(contentsOfFile: "\(folder)/plans.yaml", encoding: .utf8))
        let result = try CreditsBinary.run(["init", "--db", db, "--config", folder])
        #expect(result.exitCode == 65, "\(result.stderr)")
        // libyaml reports an unclosed flow sequence where it gave up: at that line or the end of the file.
        let match = result.stderr.range(of: #"plans\.yaml:[0-9]+: "#, options: .regularExpression)
        let reported = match.flatMap { Int(result.stderr[$0].dropFirst("plans.yaml:".count).dropLast(2)) }
        #expect(reported.map { $0 >= expected } == true, "\(result.stderr)")
    }
}
