import Ledger

/// One sighting of a Revolut order, normalised from any export format (API JSON current or legacy,
/// JSON Lines, settlement/payments/custom report CSV). Reconcile joins sightings by `orderID` and
/// ties them to an organisation and package by `merchantReference` or `organisationID`/`packageID`.
public struct RevolutOrderObservation: Sendable, Hashable {
    /// The export format the sighting came from.
    public enum SourceFormat: String, Sendable, Hashable, CaseIterable {
        case apiCurrent, apiLegacy, settlementReport, paymentsReport, customReport, mappedCSV
    }

    /// Revolut's order id (the join key across exports).
    public let orderID: String
    /// Payment, refund, chargeback, ...
    public let type: RevolutOrderType
    /// The order's (or report row's) state.
    public let state: RevolutOrderState
    /// The order amount in minor units (JSON exports) or converted exactly from major units (CSV).
    public let amount: Money
    /// Our reference: `merchant_order_data.reference`, legacy or CSV `merchant_order_ext_ref`.
    public let merchantReference: String?
    /// `metadata.organisation_id` when present.
    public let organisationID: String?
    /// `metadata.package_id` when present.
    public let packageID: String?
    /// For refunds and chargebacks: the original order (`related_order_id` / `original_order_id`).
    public let relatedOrderID: String?
    /// When the order (or report transaction) was created, if given.
    public let createdAt: Instant?
    /// When it last changed, if given.
    public let updatedAt: Instant?
    /// The export format it came from.
    public let format: SourceFormat
    /// Where it was read.
    public let source: SourcePosition

    /// An observation with every field given.
    public init(
        orderID: String, type: RevolutOrderType, state: RevolutOrderState, amount: Money, merchantReference: String?,
        organisationID: String?, packageID: String?, relatedOrderID: String?, createdAt: Instant?,
        updatedAt: Instant?, format: SourceFormat, source: SourcePosition
    ) {
        self.orderID = orderID
        self.type = type
        self.state = state
        self.amount = amount
        self.merchantReference = merchantReference
        self.organisationID = organisationID
        self.packageID = packageID
        self.relatedOrderID = relatedOrderID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.format = format
        self.source = source
    }
}

/// What one order record produced.
public enum RevolutOrderOutcome: Sendable, Hashable {
    case order(RevolutOrderObservation)
    case rejected(Rejection)
}

/// The layout of an order export, detected from its content.
public enum RevolutOrderFileFormat: String, Sendable, Hashable {
    /// `{"orders": [...]}` from `GET /api/orders`.
    case apiList
    /// A bare JSON array (legacy `GET /api/1.0/orders`, or current orders saved as an array).
    case apiArray
    /// One order object per line (either generation).
    case jsonLines
    case settlementReport
    case paymentsReport
    case customReport
    /// A CSV read through a caller-supplied `RevolutCSVColumnMapping`.
    case mappedCSV
}

/// Every order sighting in one file, in file order.
public struct RevolutOrderFile: Sendable, Hashable {
    /// The file as the user named it.
    public let displayName: String
    /// The detected layout.
    public let format: RevolutOrderFileFormat
    /// True when the file was gzip-compressed.
    public let isGzip: Bool
    /// One outcome per order record, in file order.
    public let outcomes: [RevolutOrderOutcome]
}
