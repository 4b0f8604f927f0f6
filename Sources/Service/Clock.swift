import Foundation
import Ledger

/// Where the service reads "now" from. Injected everywhere a decision depends on the time (webhook
/// timestamp window, token expiry, metrics) so tests can pin the clock instead of sleeping.
public typealias NowProvider = @Sendable () -> Instant

/// The wall clock; the only place in the service that calls `Date()`.
public let systemNow: NowProvider = { Instant(Date()) }
