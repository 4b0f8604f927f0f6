import Dispatch
import Foundation
import FuzzDriver
import Ledger
import Logging
import Service

/// libFuzzer entry point for `/graphql`: the real `GraphQLEndpoint` of `credits serve` with the
/// ledger-backed schema, over a ledger loaded from fixtures/config. Each input goes through the
/// whole request path: body decoding (the one-pass scan, then `JSONDecoder` after the nesting scan),
/// the document nesting scan, parsing, `GraphQLDocumentAnalysis`, the duplicate-definition check,
/// GraphQL validation and, for a valid document, execution as an organisation key.
///
/// The first byte chooses what the rest is (see `GraphQLFuzzInput`); a refusal is the expected answer
/// to most inputs, a crash, a trap or a hang is a finding.
func fuzzGraphQL(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let request = GraphQLFuzzInput.request(bytes) else { return 0 }
    let endpoint = GraphQLFuzzTarget.endpoint
    blocking {
        _ = await endpoint.respond(
            to: request, mediaType: .graphQLResponseJSON,
            context: GraphQLRequestContext(principal: .organisation(id: "met-police"), keyID: "fuzz", requestID: "fuzz"),
            logger: GraphQLFuzzTarget.logger)
    }
    return 0
}

/// How an input is read (Tests/ServiceTests/ServiceFuzzRegressionTests.swift reads fixtures/fuzz/graphql
/// the same way): the first byte modulo 3 picks
/// - 0: the rest is a GraphQL document, posted as `{"query": document}`;
/// - 1: the rest is a POST body (a request object with variables and operationName, or a batch);
/// - 2: the rest is the query component of a GET URL.
enum GraphQLFuzzInput {
    static func request(_ bytes: [UInt8]) -> GraphQLHTTPRequest? {
        guard let mode = bytes.first else { return nil }
        let rest = Array(bytes.dropFirst())
        switch mode % 3 {
        case 0:
            let document = String(decoding: rest, as: UTF8.self)
            guard let body = try? JSONSerialization.data(withJSONObject: ["query": document]) else { return nil }
            return .post(body: Array(body))
        case 1:
            return .post(body: rest)
        default:
            return .get(urlQuery: String(decoding: rest, as: UTF8.self))
        }
    }
}

enum GraphQLFuzzTarget {
    static let logger = Logger(label: "fuzz-graphql") { _ in SwiftLogNoOpLogHandler() }

    /// One ledger per process, in a temporary file, loaded with the fixtures' organisations (when run
    /// from the repository root, as fuzz/run does) so resolvers find data to answer with.
    static let endpoint: GraphQLEndpoint<LedgerResolver, GraphQLRequestContext> = {
        let path = "\(NSTemporaryDirectory())/credits-fuzz-graphql-\(getpid()).sqlite"
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let now = Instant(millisecondsSinceEpoch: 1_795_000_000_000)
        do {
            let ledger = try LedgerDatabase.create(at: path, clock: { now })
            if let configuration = try? ConfigurationLoader.load(directory: "fixtures/config") {
                _ = try ledger.write(as: .operator(name: "fuzz-graphql")) { try $0.load(configuration) }
            }
            return try LedgerSchema.endpoint(
                ledger: ledger, now: { now }, limits: GraphQLLimits(), metrics: MetricsRegistry())
        } catch {
            fatalError("fuzz-graphql: cannot set up the ledger at \(path): \(error)")
        }
    }()
}

/// Runs `body` to completion from libFuzzer's synchronous callback.
func blocking(_ body: @escaping @Sendable () async -> Void) {
    let done = DispatchSemaphore(value: 0)
    Task {
        await body()
        done.signal()
    }
    done.wait()
}

exit(runFuzzer { fuzzGraphQL($0, $1) })
