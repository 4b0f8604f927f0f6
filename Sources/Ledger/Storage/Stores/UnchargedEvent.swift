/// A staged cost event not yet charged: what reconcile needs to plan its deduction.
public struct UnchargedEvent: Sendable, Hashable {
    public let eventID: String
    public let organisationID: String
    public let team: String
    public let investigation: String?
    public let operation: String
    public let credits: Credits
    public let occurredAt: Instant
    public let sourceFile: String
    public let sourceLine: Int
}
