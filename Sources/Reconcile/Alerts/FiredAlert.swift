import Foundation
import Ledger

/// An alert that fired: the summary line and the webhook payload (sorted-keys JSON).
public struct FiredAlert: Sendable, Hashable, Codable {
    /// `credits.alert.fired`, or `credits.alert.resolved` when a fired crossing cleared, so a
    /// receiver can route several event types.
    public var event: String
    public var organisationID: String
    public var rule: AlertRule
    public var subject: String
    public var value: String
    public var threshold: String
    public var unit: String
    public var runOutDate: LocalDate?
    public var detail: String
    /// The instant the rules were evaluated at.
    public var asOf: Instant

    public init(organisationID: String, observation: AlertObservation, asOf: Instant) {
        event = "credits.alert.fired"
        self.organisationID = organisationID
        rule = observation.rule
        subject = observation.subject
        value = observation.value
        threshold = observation.threshold
        unit = observation.unit
        runOutDate = observation.runOutDate
        detail = observation.detail
        self.asOf = asOf
    }

    /// The delivery that says a fired crossing cleared: the observation as it is now.
    public static func resolved(organisationID: String, observation: AlertObservation, asOf: Instant) -> FiredAlert {
        var alert = FiredAlert(organisationID: organisationID, observation: observation, asOf: asOf)
        alert.event = "credits.alert.resolved"
        return alert
    }

    /// The exact JSON body sent to webhooks: sorted keys, so the same alert is the same bytes.
    public func jsonBody() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
