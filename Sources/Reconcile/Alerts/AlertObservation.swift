import Foundation
import Ledger

/// One rule's reading of one subject at the as-of instant: the value, the threshold it is
/// compared with, and whether the alert condition holds.
public struct AlertObservation: Sendable, Hashable {
    public var rule: AlertRule
    /// What the alert is about: `balance`, `team:<id>`, `investigation:<id>`.
    public var subject: String
    /// Whether the condition holds now (the balance is low, the runway short, the day unusual).
    public var breached: Bool
    /// Exact decimal text in `unit`.
    public var value: String
    public var threshold: String
    /// `credits` or `days`.
    public var unit: String
    /// For runway: the local date the spendable balance runs out at the trailing burn rate.
    public var runOutDate: LocalDate?
    public var detail: String
}
