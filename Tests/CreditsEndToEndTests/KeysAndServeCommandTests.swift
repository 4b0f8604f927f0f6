import Foundation
import Testing
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Goal: `credits keys create` issues keys the service accepts, and `credits serve` answers on loopback and
/// stops on SIGTERM.
@Suite struct KeysAndServeCommandTests {
    let directory = TemporaryDirectory("e2e-serve")
    var db: String { directory.file("ledger.sqlite") }

    func credits(_ arguments: String...) throws -> CreditsBinary.Result {
        try CreditsBinary.run(arguments + ["--db", db])
    }

    @Test func keysCreate_printsAKeyOnceAndRefusesBadOptions() throws {
        #expect(try credits("init", "--config", "\(repositoryRoot)/fixtures/config").exitCode == 0)
        let created = try credits("keys", "create", "--org", "met-police", "--json")
        #expect(created.exitCode == 0, "\(created.stderr)")
        let result = try #require(try created.json()["result"] as? [String: Any])
        let key = try #require(result["key"] as? String)
        #expect(key.hasPrefix("ck_") && key.count == 46)
        // The id audit rows name the key by: the first 16 hex digits of its SHA-256 (ServiceTests check
        // the digits; this binary-level test checks the shape).
        let keyID = try #require(result["keyID"] as? String)
        #expect(keyID.count == 16 && keyID.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(try credits("keys", "create", "--admin").exitCode == 0)
        #expect(try credits("keys", "create", "--org", "no-such-org").exitCode == 65)
        #expect(try credits("keys", "create").exitCode == 64)
        #expect(try credits("keys", "create", "--org", "met-police", "--admin").exitCode == 64)
    }

    @Test func serve_answersWithAStoredKeyAndStopsOnSIGTERM() async throws {
        #expect(try credits("init", "--config", "\(repositoryRoot)/fixtures/config").exitCode == 0)
        let key = try credits("keys", "create", "--org", "met-police").stdout
            .split(separator: "\n").first.map(String.init) ?? ""
        let (process, port) = try Self.serve(db: db)
        defer { if process.isRunning { process.terminate() } }

        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/graphql")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(#"{"query":"{ creditBalance(organisationId: \"met-police\") { currency } }"}"#.utf8)
        var body = ""
        for _ in 0..<50 where body.isEmpty {
            if let (data, _) = try? await URLSession.shared.data(for: request) {
                body = String(decoding: data, as: UTF8.self)
            } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(body == #"{"data":{"creditBalance":{"currency":"GBP"}}}"#)
        process.terminate()  // SIGTERM
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
    }

    /// Starts `credits serve` on a free loopback port of the database; returns it and the port.
    static func serve(db: String) throws -> (process: Process, port: Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CreditsBinary.path)
        process.arguments = ["serve", "--db", db, "--port", "0", "--log-level", "error"]
        let stderr = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        try process.run()
        guard let port = boundPort(stderr.fileHandleForReading) else {
            process.terminate()
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "credits serve did not start"])
        }
        return (process, port)
    }

    /// Reads stderr until `credits serve: listening on HOST:PORT` (port 0 was asked for); nil at EOF.
    static func boundPort(_ handle: FileHandle) -> Int? {
        var text = ""
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { return nil }
            text += String(decoding: chunk, as: UTF8.self)
            if let port = ServeProcess.listeningPort(in: text) { return port }
        }
    }
}
