import Ledger

/// Where a record came from: the file as the user named it and the 1-based line it starts on.
public struct SourcePosition: Sendable, Hashable, CustomStringConvertible {
    /// The file as the user named it.
    public let file: String
    /// 1-based line the record starts on.
    public let line: Int

    /// A position in an input file.
    public init(file: String, line: Int) {
        self.file = file
        self.line = line
    }

    /// `FILE:LINE`.
    public var description: String { "\(file):\(line)" }
}

/// One valid cost event, as read from a file: fields checked for shape, not yet against configuration
/// (organisation, team, investigation and rate card are checked when staging).
public struct CostEventRecord: Sendable, Hashable {
    /// What the event charges: credits directly, or a quantity the rate card prices later.
    public enum Charge: Sendable, Hashable {
        case credits(Credits)
        case quantity(ExactDecimal, unit: String)
    }

    /// The producer's unique id for the event.
    public let eventID: String
    /// The organisation charged.
    public let organisationID: String
    /// The team inside the organisation.
    public let team: String
    /// The investigation, when the work belonged to one.
    public let investigation: String?
    /// What was done (`llm.completion`, `ocr`, ...).
    public let operation: String
    /// Credits, or a quantity and unit to price.
    public let charge: Charge
    /// When the work happened.
    public let occurredAt: Instant
    /// `attributes` exactly as written in the input (valid JSON), nil when absent or null.
    public let attributesJSON: String?
    /// The unknown top-level fields as one canonical JSON object, nil when there are none.
    public let extrasJSON: String?
    /// The canonical bytes of the whole event (see `CanonicalJSON`): equal for the same content
    /// whatever the key order, whitespace, escaping, credits spelling (`12.50` = `12.5`) or offset
    /// (`11:00+01:00` = `10:00Z`). Staging hashes these to tell a duplicate from an `eventIDConflict`.
    public let canonicalBytes: [UInt8]
    /// Where the record was read.
    public let source: SourcePosition

    /// The credits, when the event states them rather than a quantity.
    public var credits: Credits? {
        if case .credits(let credits) = charge { return credits }
        return nil
    }
}

/// What reading one record produced: an event, or a rejection saying why not.
public enum CostEventOutcome: Sendable, Hashable {
    case event(CostEventRecord)
    case rejected(Rejection)
}

extension CostEventRecord {
    /// The attributes as staging stores them, batch and live alike: as written, or with unknown
    /// fields both under one object so neither is lost.
    public var storedAttributesJSON: String? {
        guard let extrasJSON else { return attributesJSON }
        return "{\"attributes\":\(attributesJSON ?? "null"),\"unknown_fields\":\(extrasJSON)}"
    }
}
