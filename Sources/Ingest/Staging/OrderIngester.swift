import Foundation
import Ledger

/// Stages Revolut order exports as order observations: every distinct view of an order is kept once
/// (so reconcile sees completed-then-refunded histories); the same view again is a duplicate.
/// Orders we cannot tie to an organisation are kept, not dropped: reconcile flags them.
/// One transaction per file; a file whose bytes were ingested before is skipped.
public struct OrderIngester {
    /// The ledger staged into.
    public let store: any StagingStore
    /// The limits enforced while reading.
    public var limits: IngestLimits
    /// A mapping for CSV layouts we do not recognise.
    public var columnMapping: RevolutCSVColumnMapping?

    /// An ingester staging into `store` (SQLite or PostgreSQL).
    public init(
        store: any StagingStore, columnMapping: RevolutCSVColumnMapping? = nil, limits: IngestLimits = .standard
    ) {
        self.store = store
        self.columnMapping = columnMapping
        self.limits = limits
    }

    /// Ingests one export. Throws for a missing or unreadable file (66, 74) or a database failure;
    /// a file refused whole comes back with `fileRejection` set (exit 65).
    public func ingest(path: String, displayName: String? = nil, rejects: RejectsWriter? = nil) throws
        -> IngestFileSummary
    {
        let started = DispatchTime.now().uptimeNanoseconds
        // A pipe can be read once; an export is hashed, then read: copy it to a regular file first.
        let spool = try FileStart.isStream(path)
            ? SpooledStream(
                copying: path, displayName: displayName ?? path, bytesMax: limits.orderFileBytesMax, limits: limits)
            : nil
        let displayName = displayName ?? path
        let path = spool?.path ?? path
        defer { withExtendedLifetime(spool) {} }
        let start = try FileStart(
            kind: .orders, path: path, displayName: displayName, limits: limits, store: store)
        guard let fingerprint = start.fingerprint else { preconditionFailure("orders are hashed up front") }
        let name = start.name
        var summary = start.summary
        if start.alreadyIngested {
            try RecordedRejections.reemit(
                contentSHA256: fingerprint.sha256, store: store, rejects: rejects, summary: &summary)
            return summary
        }
        let file: RevolutOrderFile
        do {
            file = try RevolutOrderReader.read(
                path: path, displayName: name, columnMapping: columnMapping, limits: limits)
        } catch {
            guard case .fileRejected(let rejection) = error else { throw error }
            summary.refuse(rejection)
            try rejects?.write(rejection)
            return summary
        }
        summary.format = file.format.rawValue
        summary.gzip = file.isGzip
        summary = try store.stagingFile { unit in
            var summary = summary
            var observations: [OrderObservation] = []
            var refused: [Rejection] = []
            for outcome in file.outcomes {
                summary.read += 1
                switch outcome {
                case .order(let order): observations.append(Self.observation(order))
                case .rejected(let rejection): refused.append(rejection)
                }
            }
            try unit.recordRejections(refused.map { $0.recorded(rawBytesMax: limits.rejectRawBytesMax) })
            for rejection in refused {
                summary.count(rejection)
                try rejects?.write(rejection)
            }
            for isNew in try unit.observe(observations) {
                if isNew { summary.staged += 1 } else { summary.duplicates += 1 }
            }
            // Only views that carry no tie of their own need the ledger asked.
            let unmarked = observations.filter { !Self.carriesTie($0) }
            summary.ordersNotTied = try unit.recordedTies(of: unmarked).filter { !$0 }.count
            try unit.recordIngestedFile(
                contentSHA256: fingerprint.sha256, kind: .orders, path: name, bytes: fingerprint.bytes,
                summary: String(decoding: try JSONEncoder.sorted.encode(summary), as: UTF8.self))
            return summary
        }
        summary.durationMs = Int((DispatchTime.now().uptimeNanoseconds - started) / 1_000_000)
        return summary
    }

    /// Whether the view ties its order to an organisation by itself: metadata naming one, or (refunds,
    /// chargebacks) the order it refers to. An order is tied, as reconcile will look for it, when its
    /// view carries a tie or the ledger records one (`StagingUnit.recordedTies`: a purchase under its
    /// reference or its id, another view of the order carrying a tie).
    static func carriesTie(_ order: OrderObservation) -> Bool {
        order.organisationID != nil || order.relatedOrderID != nil
    }

    /// The ledger's storage form: lower-case type and state words, the source format's name.
    static func observation(_ order: RevolutOrderObservation) -> OrderObservation {
        OrderObservation(
            orderType: order.type, orderID: order.orderID, state: order.state,
            amount: order.amount, merchantReference: order.merchantReference, organisationID: order.organisationID,
            packageID: order.packageID, relatedOrderID: order.relatedOrderID, createdAt: order.createdAt,
            updatedAt: order.updatedAt, source: sourceWord(order.format), sourceFile: order.source.file,
            sourceLine: order.source.line)
    }

    static func sourceWord(_ format: RevolutOrderObservation.SourceFormat) -> String {
        switch format {
        case .apiCurrent: "api"
        case .apiLegacy: "legacy_api"
        case .settlementReport: "settlement_csv"
        case .paymentsReport: "payments_csv"
        case .customReport: "custom_csv"
        case .mappedCSV: "mapped_csv"
        }
    }
}
