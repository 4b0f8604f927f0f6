import Ledger

/// One record ready for the staging side: an event to stage, or a rejection to write.
enum PreparedRecord: Sendable {
    case stage(PricedEvent)
    case reject(Rejection)
}

/// An event checked against the configuration and priced, not yet hashed: the staging side takes
/// the SHA-256 of its canonical bytes (`staged`), which evens out the two threads' work (reading
/// and parsing is the longer side).
struct PricedEvent: Sendable {
    let record: CostEventRecord
    let credits: Credits
    let pricing: RatePricing?

    /// The event as staging stores it.
    var staged: StagedCostEvent {
        StagedCostEvent(
            eventID: record.eventID, contentSHA256: .sha256(of: record.canonicalBytes),
            organisationID: record.organisationID, team: record.team, investigation: record.investigation,
            operation: record.operation, credits: credits, pricing: pricing, occurredAt: record.occurredAt,
            attributesJSON: record.storedAttributesJSON, sourceFile: record.source.file,
            sourceLine: record.source.line)
    }
}

/// What the reading side hands to the staging side, in file order. Every reading ends with
/// exactly one of `finished`, `refused` or `failed`.
enum ReadingReport: Sendable {
    case opened(layout: EventFileLayout, isGzip: Bool)
    case records([PreparedRecord], bytesRead: Int64)
    case finished(FileFingerprint)
    case refused(Rejection, FileFingerprint)
    case failed(InputError)
}

/// The reading side of ingesting an events file: read, parse, check against the configuration and
/// price each record, handing batches to the staging side.
///
/// Why a side of its own: parsing and SQLite each take about half of ingest's time, so
/// `EventIngester` runs this on a second thread while its transaction stages what this has
/// prepared. It touches nothing but the file: every decision that depends on the database
/// (duplicate, conflict) stays on the staging side, which takes the records in file order, so
/// the outcome is exactly that of reading and staging one record after another.
struct EventPreparer: Sendable {
    /// The configuration records are checked against.
    let directory: IngestDirectory
    /// The limits enforced while reading.
    let limits: IngestLimits

    /// Reads the whole file into `handOff` in batches of `EventIngester.handOffBatchRecords`,
    /// then its fingerprint (`known`, or hashed while reading). Returns early when the staging
    /// side stops the hand-off.
    func read(path: String, name: String, known: FileFingerprint?, into handOff: HandOff<ReadingReport>) {
        var reader: CostEventReader?
        var batch: [PreparedRecord] = []
        do throws(InputError) {
            let opened = try CostEventReader(
                path: path, displayName: name, limits: limits, fingerprinting: known == nil)
            reader = opened
            guard handOff.put(.opened(layout: opened.layout, isGzip: opened.isGzip)) else { return }
            batch.reserveCapacity(EventIngester.handOffBatchRecords)
            while let outcome = try opened.next() {
                batch.append(prepare(outcome))
                guard batch.count == EventIngester.handOffBatchRecords else { continue }
                guard handOff.put(.records(batch, bytesRead: opened.bytesRead)) else { return }
                batch = []
                batch.reserveCapacity(EventIngester.handOffBatchRecords)
            }
            if !batch.isEmpty {
                guard handOff.put(.records(batch, bytesRead: opened.bytesRead)) else { return }
            }
            _ = handOff.put(.finished(try fingerprint(known: known, reader: opened, path: path)))
        } catch {
            // The records read before a refusal still count in the refused file's summary.
            if !batch.isEmpty {
                guard handOff.put(.records(batch, bytesRead: reader?.bytesRead ?? 0)) else { return }
            }
            _ = handOff.put(report(error, path: path, known: known, reader: reader))
        }
    }

    /// How a reading that threw ends: a file refused whole carries the SHA-256 of all its bytes
    /// (refused before the reader existed, an empty file say, it is hashed apart: that is rare).
    private func report(
        _ error: InputError, path: String, known: FileFingerprint?, reader: CostEventReader?
    ) -> ReadingReport {
        guard case .fileRejected(let rejection) = error else { return .failed(error) }
        do throws(InputError) {
            return .refused(rejection, try fingerprint(known: known, reader: reader, path: path))
        } catch {
            return .failed(error)
        }
    }

    /// `known`, else the hash taken while reading, else (no reader) a separate read of the file.
    private func fingerprint(
        known: FileFingerprint?, reader: CostEventReader?, path: String
    ) throws(InputError) -> FileFingerprint {
        if let known { return known }
        if let reader { return try reader.fingerprint() }
        return try FileFingerprint.of(path: path, limits: limits)
    }

    /// One record checked against the configuration and priced, or its rejection.
    func prepare(_ outcome: CostEventOutcome) -> PreparedRecord {
        switch outcome {
        case .rejected(let rejection): .reject(rejection)
        case .event(let record): prepare(record)
        }
    }

    private func prepare(_ record: CostEventRecord) -> PreparedRecord {
        if let violation = directory.check(record) {
            return .reject(rejection(violation.rule, record, field: violation.field, detail: violation.detail))
        }
        let credits: Credits
        let pricing: RatePricing?
        switch RateCardPricing.charge(of: record, rate: directory.rate) {
        case .rejected(let rejection): return .reject(rejection)
        case .priced(let priced, let rated):
            credits = priced
            pricing = rated
        }
        return .stage(PricedEvent(record: record, credits: credits, pricing: pricing))
    }

    private func rejection(
        _ rule: RejectionRule, _ record: CostEventRecord, field: String, detail: String
    ) -> Rejection {
        Rejection(rule, file: record.source.file, line: record.source.line, field: field, detail: detail)
    }
}
