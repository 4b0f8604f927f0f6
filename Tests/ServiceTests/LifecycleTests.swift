import Foundation
import Graphiti
import Ledger
import NIOCore
import NIOPosix
import ServiceLifecycle
import Testing

@testable import Service

/// Graceful shutdown (what SIGTERM triggers through `runService()`) and connection hygiene.
@Suite struct LifecycleTests {
    struct SlowResolver: Sendable {
        /// Told when a request has reached the resolver, so the test stops the server with it in flight.
        let started: AsyncStream<Void>.Continuation

        func slow(context: GraphQLRequestContext, arguments: NoArguments) async throws -> String {
            started.yield()
            try await Task.sleep(for: .milliseconds(600))
            return "done"
        }
    }

    static func slowEndpoint(started: AsyncStream<Void>.Continuation) throws
        -> GraphQLEndpoint<SlowResolver, GraphQLRequestContext>
    {
        let schema = try Schema<SlowResolver, GraphQLRequestContext> {
            Query { Field("slow", at: SlowResolver.slow) }
        }
        let metrics = MetricsRegistry()
        let resolver = SlowResolver(started: started)
        return GraphQLEndpoint(schema: schema, resolver: resolver, limits: GraphQLLimits(), metrics: metrics) {
            GraphQLRequestContext(principal: $0, keyID: $1, requestID: $2)
        }
    }

    @Test func testGracefulShutdownDrainsAnInFlightRequest() async throws {
        var configuration = ServiceConfiguration()
        configuration.port = 0
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let dependencies = ServiceDependencies(
            keyStore: ServiceHTTPTests.store, graphQL: try Self.slowEndpoint(started: startedContinuation))
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = try CreditsServer.makeApplication(
            configuration: configuration, dependencies: dependencies, logger: quietLogger("lifecycle"),
            onServerRunning: { continuation.yield($0) })
        let group = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [], logger: quietLogger("lifecycle")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let url = URL(string: "http://127.0.0.1:\(port)/graphql")!
            async let inFlight = send(
                "POST", url,
                headers: ["Authorization": "Bearer \(ServiceHTTPTests.orgKey.key)", "Content-Type": "application/json"],
                body: Data(#"{"query":"{ slow }"}"#.utf8))
            // Only once the request is being answered: a fixed delay let a loaded machine shut the listener
            // before the request had even arrived.
            var startedIterator = started.makeAsyncIterator()
            _ = await startedIterator.next()
            await group.triggerGracefulShutdown()
            let answer = try await inFlight
            #expect(answer.status == 200)
            #expect(answer.text == #"{"data":{"slow":"done"}}"#)
            try await tasks.next()
            await #expect(throws: (any Error).self) {
                try await send("GET", URL(string: "http://127.0.0.1:\(port)/healthz")!, timeout: 2)
            }
        }
    }

    @Test func testIdleConnectionIsClosed() async throws {
        try await ServiceHTTPTests.withService(configure: { $0.idleTimeout = .milliseconds(300) }) { service in
            let port = try #require(service.base.port)
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port).get()
            let started = ContinuousClock.now
            // Sends nothing: the server must close the connection after its idle timeout. Without one it
            // would stay open; the bound is generous (100 times the timeout) so a loaded machine running
            // the other suites in parallel cannot fail a server that does close it.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await channel.closeFuture.get() }
                group.addTask {
                    try await Task.sleep(for: .seconds(30))
                    throw LiveServerError.timedOut
                }
                try await group.next()
                group.cancelAll()
            }
            #expect(ContinuousClock.now - started < .seconds(30))
        }
    }
}
