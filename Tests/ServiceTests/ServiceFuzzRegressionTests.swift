import Crypto
import Foundation
import Ledger
import Logging
import Testing
import TestSupport

@testable import Service

/// Every input in fixtures/fuzz/graphql and fixtures/fuzz/webhooks once crashed `fuzz-graphql` or
/// `fuzz-webhooks` (fuzz/README.md). Each is read as the harness reads it (the first byte picks the
/// mode) and sent through the same calls; the service must refuse it cleanly, never trap.
struct ServiceFuzzRegressionTests {
    static func inputs(_ folder: String) -> [String] {
        let directory = repositoryRoot + "/fixtures/fuzz/" + folder
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { !$0.hasSuffix(".md") && !$0.hasPrefix(".") }.sorted().map { directory + "/" + $0 }
    }

    /// fuzz/Sources/fuzz-graphql: 0 a document, 1 a POST body, 2 a GET URL's query component.
    static func graphQLRequest(_ bytes: [UInt8]) throws -> GraphQLHTTPRequest {
        let mode = try #require(bytes.first)
        let rest = Array(bytes.dropFirst())
        switch mode % 3 {
        case 0:
            let body = try JSONSerialization.data(withJSONObject: ["query": String(decoding: rest, as: UTF8.self)])
            return .post(body: Array(body))
        case 1: return .post(body: rest)
        default: return .get(urlQuery: String(decoding: rest, as: UTF8.self))
        }
    }

    @Test func theKnownGraphQLCrashIsKept() {
        #expect(Self.inputs("graphql").contains { $0.hasSuffix("/three-hundred-anonymous-operations.doc") })
    }

    @Test("GraphQL: each input is refused before execution", arguments: inputs("graphql"))
    func graphQL(path: String) async throws {
        let directory = TemporaryDirectory("fuzz-regression")
        let now = instant("2026-11-24T12:00:00Z")
        let ledger = try LedgerDatabase.create(at: directory.file("ledger.sqlite"), clock: { now })
        let configuration = try ConfigurationLoader.load(directory: repositoryRoot + "/fixtures/config")
        _ = try await ledger.write { try $0.load(configuration) }
        let endpoint = try LedgerSchema.endpoint(
            ledger: ledger, now: { now }, limits: GraphQLLimits(), metrics: MetricsRegistry())
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let reply = await endpoint.respond(
            to: try Self.graphQLRequest(bytes), mediaType: .graphQLResponseJSON,
            context: GraphQLRequestContext(principal: .organisation(id: "met-police"), keyID: "k", requestID: "r"),
            logger: Logger(label: "test"))
        let text = String(decoding: reply.body, as: UTF8.self)
        #expect((400..<500).contains(reply.status), "\(reply.status) \(text.prefix(300))")
        let object = try #require(try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])
        let errors = try #require(object["errors"] as? [[String: Any]], "\(text.prefix(300))")
        #expect(!errors.isEmpty && object["data"] == nil, "\(text.prefix(300))")
    }

    @Test("only a \\u escape cut short by the end of the document is refused before the lexer")
    func truncatedEscapeGuard() {
        for cutShort in [#"{ a(b: "\u"#, #"{ a(b: "\u1"#, #"{ a(b: "\u123"#, #"{ a(b: "x\\\u12"#, #"{ a(b: "\u1" "#] {
            #expect(GraphQLLexerGuard.truncatedEscape(in: cutShort) != nil, "\(cutShort)")
        }
        for fine in [#"{ a(b: "\u0041") }"#, #"{ a(b: "\u1234"#, #"{ a(b: "\\u1"#, "{ a } # \\u1",
                     #"{ a(b: """\u1"#, #"{ a(b: "\u1"# + "\n x"]
        {
            #expect(GraphQLLexerGuard.truncatedEscape(in: fine) == nil, "\(fine)")
        }
    }

    /// fuzz/Sources/fuzz-webhooks, with the secrets and clock of shared/revolut.md §7.
    static let currentSecret = "wsk_test_Cr3d1tsL3dg3rNewK3y7Qp2Zr9Xv4Mb8N"
    static let verifier = RevolutSignatureVerifier(
        secrets: [currentSecret, "wsk_test_Cr3d1tsL3dg3rOldK3y1Hs5Tc3Jw6Ye0D"],
        now: { Instant(millisecondsSinceEpoch: 1_767_225_630_000) })

    @Test("webhooks: each delivery is refused (signature or body)", arguments: inputs("webhooks"))
    func webhook(path: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let mode = try #require(bytes.first)
        let rest = Array(bytes.dropFirst())
        switch mode % 3 {
        case 0:
            #expect(RevolutWebhookEvent.parse(Data(rest)) == nil)
        case 1:
            let parts = rest.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
            let body = parts.count > 2 ? Array(parts[2]) : []
            let verdict = Self.verifier.verify(
                signatureHeader: parts.count > 0 ? String(decoding: parts[0], as: UTF8.self) : nil,
                timestampHeader: parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : nil, body: body)
            #expect(verdict != .accepted || RevolutWebhookEvent.parse(Data(body)) == nil)
        default:
            let timestamp = "1767225600000"
            let mac = HMAC<SHA256>.authenticationCode(
                for: Array("v1.\(timestamp).".utf8) + rest, using: SymmetricKey(data: Array(Self.currentSecret.utf8)))
            let signature = "v1=" + mac.map { String(format: "%02x", $0) }.joined()
            #expect(Self.verifier.verify(signatureHeader: signature, timestampHeader: timestamp, body: rest) == .accepted)
            #expect(RevolutWebhookEvent.parse(Data(rest)) == nil)
        }
    }
}
