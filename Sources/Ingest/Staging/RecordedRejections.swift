#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Ledger

/// The rejections the ledger keeps for an ingested file (`ingest_rejections`), written to the rejects
/// file again whenever the same content is skipped as already ingested: a run killed after its commit
/// but before its rejects file was in place loses nothing, and the rerun ends with the same rejects
/// and exit code as a run that was never interrupted.
enum RecordedRejections {
    /// A rejection the ledger holds under a rule this build does not know (a newer build wrote it).
    struct UnknownRule: Error, CustomStringConvertible {
        let reason: String
        var description: String { "the ledger holds a rejection with the unknown rule \"\(reason)\"" }
    }

    /// Writes the rejections recorded for `contentSHA256` to `rejects` in their original order and
    /// counts them into `summary`.
    static func reemit(
        contentSHA256: String, store: any StagingStore, rejects: RejectsWriter?, summary: inout IngestFileSummary
    ) throws {
        var count = 0
        try store.forEachRejection(ofIngestedFile: contentSHA256) { recorded in
            guard let rejection = Rejection(recorded: recorded) else { throw UnknownRule(reason: recorded.reason) }
            try rejects?.write(rejection)
            count += 1
        }
        summary.rejectedWhenIngested = count
    }
}
