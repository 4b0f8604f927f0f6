/// Where `credits ingest events|orders` stages its files: a SQLite ledger (`LedgerDatabase`) or a
/// PostgreSQL one (`PostgresStagingStore`). Ingest decides everything (what a record is, which rule
/// refuses it, staged, duplicate or conflict, whether an order is tied, the summary); a store only reads
/// what ingest asks for and keeps what it is given, all of one file or nothing.
///
/// Synchronous on purpose: ingest reads on one thread and stages on another, in file order, and a
/// store's calls are made from that staging thread.
public protocol StagingStore {
    /// The configuration records are checked against, read once per run.
    func ingestConfiguration() throws -> IngestConfiguration
    /// True when a file of exactly this many bytes was ingested before (only then can content repeat).
    func hasIngestedFile(bytes: Int64) throws -> Bool
    func ingestedFile(contentSHA256: String) throws -> IngestedFile?
    /// Each rejection recorded when the file `contentSHA256` was ingested, in the order they were refused.
    func forEachRejection(ofIngestedFile contentSHA256: String, _ body: (RecordedRejection) throws -> Void) throws
    /// Runs `body` as one unit that commits whole or not at all: a file's events, its rejections and
    /// its `ingested_files` row. A throw (or a kill) leaves nothing of it.
    func stagingFile<T>(_ body: (any StagingUnit) throws -> T) throws -> T
    /// Called once a run's files are all in (SQLite checkpoints its write-ahead log).
    func finishRun() throws
    /// How many cost events are staged.
    func stagedEventCount() throws -> Int
    /// The recorded views of an order, oldest update first (views without an update time last).
    func observations(ofOrder orderID: String) throws -> [OrderObservation]
}

/// One file's staging, inside `StagingStore.stagingFile`.
public protocol StagingUnit {
    /// Stages events in order: each ends staged, duplicate or conflict, decided against everything staged
    /// before it (other files, earlier runs, earlier in this file and in this batch).
    func stage(_ events: [StagedCostEvent]) throws -> [StagingOutcome]
    /// Keeps refused records of this file, in order; `recordIngestedFile` gives them to the file.
    func recordRejections(_ rejections: [RecordedRejection]) throws
    /// Records order views in order; for each, whether it was new (`true`) or a repeat of a view already
    /// recorded, by its content (`OrderObservation.contentHash`), earlier in this list included.
    func observe(_ observations: [OrderObservation]) throws -> [Bool]
    /// For each order view, whether the ledger ties its order to an organisation: a purchase recorded
    /// under its merchant reference or under its order id, or a recorded view of the same order (this
    /// file's included, once observed) that names an organisation or a related order. Ingest asks only
    /// about views that carry no tie of their own (`OrderIngester.carriesTie`).
    func recordedTies(of observations: [OrderObservation]) throws -> [Bool]
    func ingestedFile(contentSHA256: String) throws -> IngestedFile?
    /// Records that the file's content was ingested, with its summary (JSON), and claims the rejections
    /// recorded in this unit (dropping them when the same content was recorded meanwhile).
    func recordIngestedFile(contentSHA256: String, kind: IngestKind, path: String, bytes: Int64, summary: String) throws
}

/// What ingest checks cost events against: the organisations (with their teams and investigations),
/// the issuer's earliest usage date, the operations (nil when none are configured) and the rate cards.
public struct IngestConfiguration: Sendable {
    public var organisations: [Organisation]
    public var usageEarliest: LocalDate?
    public var operations: [String]?
    public var rateCards: [RateCardEntry]

    public init(organisations: [Organisation], usageEarliest: LocalDate?, operations: [String]?, rateCards: [RateCardEntry]) {
        self.organisations = organisations
        self.usageEarliest = usageEarliest
        self.operations = operations
        self.rateCards = rateCards
    }
}

extension LedgerReader {
    public func ingestConfiguration() throws -> IngestConfiguration {
        IngestConfiguration(
            organisations: try organisations(), usageEarliest: try issuer()?.usageEarliest, operations: try operations(),
            rateCards: try rateCards())
    }
}

extension LedgerDatabase: StagingStore {
    /// SQLite page cache while staging a file: appending needs little, and a fixed small cache keeps
    /// memory the same whatever the file size (see `LedgerTransaction.withPageCache`).
    public static let stagingPageCacheKiB = 8192

    public func ingestConfiguration() throws -> IngestConfiguration {
        try read { try $0.ingestConfiguration() }
    }

    public func hasIngestedFile(bytes: Int64) throws -> Bool {
        try read { try $0.hasIngestedFile(bytes: bytes) }
    }

    public func ingestedFile(contentSHA256: String) throws -> IngestedFile? {
        try read { try $0.ingestedFile(contentSHA256: contentSHA256) }
    }

    public func forEachRejection(ofIngestedFile contentSHA256: String, _ body: (RecordedRejection) throws -> Void) throws {
        try read { try $0.forEachRejection(ofIngestedFile: contentSHA256, body) }
    }

    public func stagingFile<T>(_ body: (any StagingUnit) throws -> T) throws -> T {
        try write(as: .pipeline(.ingest)) { transaction in
            try transaction.withPageCache(kibibytes: Self.stagingPageCacheKiB) {
                try body(SQLiteStagingUnit(transaction: transaction, stager: try transaction.costEventStager()))
            }
        }
    }

    public func finishRun() throws {
        try checkpoint()
    }

    public func stagedEventCount() throws -> Int {
        try read { try $0.stagedEventCount() }
    }

    public func observations(ofOrder orderID: String) throws -> [OrderObservation] {
        try read { try $0.observations(ofOrder: orderID) }
    }
}

/// A file's staging in one SQLite write transaction: the events through one prepared statement.
private struct SQLiteStagingUnit: StagingUnit {
    let transaction: LedgerTransaction
    let stager: CostEventStager

    func stage(_ events: [StagedCostEvent]) throws -> [StagingOutcome] {
        try events.map { try stager.stage($0) }
    }

    func recordRejections(_ rejections: [RecordedRejection]) throws {
        for rejection in rejections { try transaction.recordRejection(rejection) }
    }

    func observe(_ observations: [OrderObservation]) throws -> [Bool] {
        try transaction.observe(observations)
    }

    func recordedTies(of observations: [OrderObservation]) throws -> [Bool] {
        let reader = transaction.reader
        return try observations.map { order in
            if let reference = order.merchantReference, try reader.purchase(reference: reference) != nil { return true }
            if try reader.purchase(revolutOrderID: order.orderID) != nil { return true }
            return try reader.observations(ofOrder: order.orderID)
                .contains { $0.organisationID != nil || $0.relatedOrderID != nil }
        }
    }

    func ingestedFile(contentSHA256: String) throws -> IngestedFile? {
        try transaction.reader.ingestedFile(contentSHA256: contentSHA256)
    }

    func recordIngestedFile(contentSHA256: String, kind: IngestKind, path: String, bytes: Int64, summary: String) throws {
        try transaction.recordIngestedFile(contentSHA256: contentSHA256, kind: kind, path: path, bytes: bytes, summary: summary)
    }
}
