import GraphQL
import Synchronization

/// Parsed, measured and validated documents keyed by their exact query text (STACK.md §4(b)).
///
/// Parsing plus validation with every specified rule dominates the cost of a small query; clients send
/// the same few query texts over and over, so a hit skips all of it. Only documents that passed every
/// limit and every validation rule are stored, so a hit can execute at once. The cache is bounded: when
/// full, the oldest entry goes (first in, first out is enough for a working set of a few dozen queries).
public final class GraphQLDocumentCache: Sendable {
    /// A document ready to execute, with its measured size for batch accounting and, when the schema's
    /// owner compiled one, its plan (a `CompiledGraphQLQuery` of the endpoint's context type).
    public struct Entry: Sendable {
        public let document: Document
        public let analysis: GraphQLDocumentAnalysis
        let plan: (any Sendable)?

        init(document: Document, analysis: GraphQLDocumentAnalysis, plan: (any Sendable)? = nil) {
            self.document = document
            self.analysis = analysis
            self.plan = plan
        }
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var insertionOrder: [String] = []
        var hits = 0
        var misses = 0
    }

    private let capacity: Int
    private let state = Mutex(State())

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The cached entry for `query`, counting a hit or a miss.
    public func lookup(_ query: String) -> Entry? {
        state.withLock { state in
            if let entry = state.entries[query] {
                state.hits += 1
                return entry
            }
            state.misses += 1
            return nil
        }
    }

    /// Stores a document that passed every check.
    public func insert(_ entry: Entry, for query: String) {
        state.withLock { state in
            guard state.entries[query] == nil else { return }
            if state.entries.count >= capacity, !state.insertionOrder.isEmpty {
                state.entries[state.insertionOrder.removeFirst()] = nil
            }
            state.entries[query] = entry
            state.insertionOrder.append(query)
        }
    }

    /// Hits, misses and entries so far (tests and diagnostics).
    public var statistics: (hits: Int, misses: Int, count: Int) {
        state.withLock { ($0.hits, $0.misses, $0.entries.count) }
    }
}
