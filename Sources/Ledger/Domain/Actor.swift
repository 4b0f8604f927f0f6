/// Who made a change to the ledger: recorded on every transfer (`transfers.actor`), so the audit trail
/// answers "who moved these credits" for each movement (docs/LEDGER.md, "Actors").
///
/// Every write transaction names one (`LedgerDatabase.write(as:)`); the group commit of the live service
/// names one per unit, since one commit carries many callers' postings. The actor is audit metadata, not
/// money: it is not part of a transfer's content hash (a retry by another caller with the same key and
/// content is the same posting) nor of the ledger digest (docs/LEDGER.md, `credits ledger verify`).
public enum Actor: Sendable, Hashable {
    /// A caller of the live service, by API key id (first 16 hex digits of the key's SHA-256), whether
    /// the key is an organisation's or a platform administrator's: `key:<id>`.
    case apiKey(id: String)
    /// A person at the command line: `--actor`, else the login name running the command: `operator:<name>`.
    case `operator`(name: String)
    /// A batch stage, with the plan it posted when there is one: `pipeline:<stage>` or
    /// `pipeline:<stage>:plan-<plan id>`.
    case pipeline(PipelineStage, plan: Int64? = nil)
    /// Revolut, through a webhook whose signature the service verified: `webhook:revolut`.
    case revolutWebhook
    /// Transfers posted before actors were recorded (migration `v4-transfer-actors`). Never a new transfer's
    /// actor: the schema refuses it.
    case unknownBeforeAudit

    /// Longest stored form, as the schema's CHECK allows.
    public static let storedTextBytesMax = 200

    /// The text stored in `transfers.actor`.
    public var storedText: String {
        switch self {
        case .apiKey(let id): "key:\(id)"
        case .operator(let name): "operator:\(name)"
        case .pipeline(let stage, let plan?): "pipeline:\(stage.rawValue):plan-\(plan)"
        case .pipeline(let stage, nil): "pipeline:\(stage.rawValue)"
        case .revolutWebhook: "webhook:revolut"
        case .unknownBeforeAudit: Self.unknownBeforeAuditText
        }
    }

    /// What the migration gives transfers posted before actors were recorded; the schema refuses it on
    /// any new transfer.
    static let unknownBeforeAuditText = "unknown (before audit)"

    /// The actor a stored text names; nil for a text no version of the ledger writes.
    public init?(storedText text: String) {
        if text == Self.unknownBeforeAuditText {
            self = .unknownBeforeAudit
        } else if text == "webhook:revolut" {
            self = .revolutWebhook
        } else if let id = text.dropPrefix("key:"), !id.isEmpty {
            self = .apiKey(id: String(id))
        } else if let name = text.dropPrefix("operator:"), !name.isEmpty {
            self = .operator(name: String(name))
        } else if let rest = text.dropPrefix("pipeline:") {
            let parts = rest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard let stage = PipelineStage(rawValue: String(parts[0])) else { return nil }
            guard parts.count == 2 else {
                self = .pipeline(stage)
                return
            }
            guard let plan = parts[1].dropPrefix("plan-").flatMap({ Int64($0) }) else { return nil }
            self = .pipeline(stage, plan: plan)
        } else {
            return nil
        }
    }

    /// Whether this actor may post: everyone but the placeholder for transfers from before the audit
    /// trail, and nobody whose name is empty or too long to store.
    var mayPost: Bool {
        switch self {
        case .unknownBeforeAudit: return false
        case .apiKey(let name), .operator(let name):
            guard !name.isEmpty else { return false }
        case .pipeline, .revolutWebhook: break
        }
        return storedText.utf8.count <= Self.storedTextBytesMax
    }
}

extension Actor: Codable {
    /// Encoded as its stored text (`key:3f2a...`, `pipeline:apply:<plan id>`), as JSON output shows it.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(storedText)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let actor = Actor(storedText: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an actor: \(text)")
        }
        self = actor
    }
}

/// The batch stages that write to the ledger (`credits <stage>`).
public enum PipelineStage: String, Sendable, Hashable, CaseIterable {
    case `init`, ingest, reconcile, apply, invoice, alerts
}

extension StringProtocol {
    fileprivate func dropPrefix(_ prefix: String) -> SubSequence? {
        hasPrefix(prefix) ? dropFirst(prefix.count) : nil
    }
}
