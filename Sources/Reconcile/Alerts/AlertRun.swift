import Foundation
import Ledger

/// `credits alerts` (and the tail of `credits apply`): evaluate every organisation's alert rules
/// as of the clock's instant, record crossings, then deliver the outbox.
///
/// Method: one write transaction reads the ledger, compares each observation with its stored
/// state, and writes the state changes, the fired alerts and their outbox rows together. Only then,
/// outside any transaction, each due outbox row is signed and sent once, and its outcome is
/// written in its own small transaction. An alert fires once per crossing: a breached condition
/// fires only from `armed`, and a state re-arms only when its condition has cleared.
public enum AlertRun {
    /// Bounded retries with exponential backoff across runs.
    public struct RetryPolicy: Sendable, Hashable {
        /// Attempts in total, the first included; after the last failure the row is `failed`.
        public var maxAttempts: Int
        /// The wait before the second attempt; each later wait doubles.
        public var firstBackoffMs: Int64

        public init(maxAttempts: Int = 5, firstBackoffMs: Int64 = 5 * 60_000) {
            precondition(maxAttempts > 0 && firstBackoffMs > 0, "invalid retry policy")
            self.maxAttempts = maxAttempts
            self.firstBackoffMs = firstBackoffMs
        }

        /// When to try again after `attempts` failed attempts, or nil to give up.
        public func retryAt(afterAttempts attempts: Int, now: Instant) -> Instant? {
            guard attempts < maxAttempts else { return nil }
            let (wait, overflow) = firstBackoffMs.multipliedReportingOverflow(by: Int64(1) << min(attempts - 1, 30))
            return now.adding(milliseconds: overflow ? Int64(Int32.max) : wait)
        }
    }

    public struct Options: Sendable {
        /// The clock: its first reading is the as-of instant of the evaluation.
        public var clock: @Sendable () -> Instant
        /// Evaluate and show what would be sent, in a transaction that is rolled back; send nothing.
        public var dryRun: Bool
        /// Where `secret_env` names are looked up (the process environment in the CLI).
        public var environment: [String: String]
        public var transport: any WebhookTransport
        public var retry: RetryPolicy
        public var unusualRule: UnusualConsumptionRule
        /// At most this many deliveries are attempted per run.
        public var deliveriesMax: Int

        public init(
            clock: @escaping @Sendable () -> Instant, dryRun: Bool = false, environment: [String: String],
            transport: any WebhookTransport = URLSessionWebhookTransport(), retry: RetryPolicy = RetryPolicy(),
            unusualRule: UnusualConsumptionRule = UnusualConsumptionRule(), deliveriesMax: Int = 1000
        ) {
            self.clock = clock
            self.dryRun = dryRun
            self.environment = environment
            self.transport = transport
            self.retry = retry
            self.unusualRule = unusualRule
            self.deliveriesMax = deliveriesMax
        }
    }

    public struct Rearmed: Sendable, Hashable, Codable {
        public var organisationID: String
        public var rule: AlertRule
        public var subject: String
        public var value: String
    }

    public struct Deliveries: Sendable, Hashable, Codable {
        public var attempted = 0
        public var succeeded = 0
        /// Attempts that failed in this run (retried later unless abandoned).
        public var failed = 0
        /// Deliveries that failed their last allowed attempt in this run (status `failed`).
        public var abandoned = 0

        public init(attempted: Int = 0, succeeded: Int = 0, failed: Int = 0, abandoned: Int = 0) {
            self.attempted = attempted
            self.succeeded = succeeded
            self.failed = failed
            self.abandoned = abandoned
        }
    }

    public struct DeliveryFailure: Sendable, Hashable, Codable {
        public var organisationID: String
        public var destination: String
        public var attempts: Int
        public var error: String
        /// When the next run will try again; nil when the delivery was given up.
        public var retryAt: Instant?
    }

    /// What a dry run would send.
    public struct PlannedDelivery: Sendable, Hashable, Codable {
        public var organisationID: String
        public var destination: String
        public var attempt: Int
        public var body: String
    }

    public struct Summary: Sendable, Hashable, Codable {
        public var asOf: Instant
        public var dryRun: Bool
        public var fired: [FiredAlert] = []
        public var rearmed: [Rearmed] = []
        /// `credits.alert.resolved` deliveries recorded for crossings that cleared (low balance,
        /// runway, budgets), each queued to every webhook like a fired alert.
        public var resolved: [FiredAlert] = []
        /// Outbox rows written for the alerts fired in this run.
        public var queued = 0
        public var deliveries = Deliveries()
        public var failures: [DeliveryFailure] = []
        public var wouldSend: [PlannedDelivery] = []

        /// A person should look: an alert fired, or a delivery failed (in this run, or at this instant in a
        /// run this one reruns: `failures`).
        public var needsReview: Bool { !fired.isEmpty || deliveries.failed > 0 || !failures.isEmpty }
    }

    public static func run(_ ledger: some AlertingStore, options: Options) throws -> Summary {
        let start = Summary(asOf: options.clock(), dryRun: options.dryRun)
        if options.dryRun { return try preview(ledger, from: start, options: options) }
        var summary = try ledger.alerting(rollingBack: false) { tx in
            try evaluate(in: tx, summary: start, rule: options.unusualRule)
        }
        try deliver(ledger, options: options, summary: &summary)
        return summary
    }

    /// The dry run: the same evaluation in a transaction that is rolled back, plus what is due to send.
    private static func preview(_ ledger: some AlertingStore, from start: Summary, options: Options) throws -> Summary {
        try ledger.alerting(rollingBack: true) { dry in
            var planned = try evaluate(in: dry, summary: start, rule: options.unusualRule)
            let due = try dry.reads.dueAlertDeliveries(at: planned.asOf, limit: options.deliveriesMax)
            planned.wouldSend = due.map {
                PlannedDelivery(organisationID: $0.organisationID, destination: $0.destination,
                                attempt: $0.attempts + 1, body: $0.payload)
            }
            return planned
        }
    }
}

extension AlertRun {
    /// Compares every observation with its stored state and writes the transitions.
    static func evaluate(in tx: any LedgerAlerting, summary: Summary, rule: UnusualConsumptionRule) throws -> Summary {
        var summary = summary
        let evaluator = AlertEvaluator(reader: tx.reads, asOf: summary.asOf, unusualRule: rule)
        for organisation in try tx.reads.organisations() {
            let observations = try evaluator.observations(for: organisation)
            var states: [String: AlertState] = [:]
            for state in try tx.reads.alertStates(of: organisation.id) {
                states["\(state.rule.rawValue)|\(state.subject)"] = state
            }
            for observation in observations {
                let key = "\(observation.rule.rawValue)|\(observation.subject)"
                try transition(observation, from: states.removeValue(forKey: key), organisation, tx, &summary)
            }
            // A fired alert no longer observed (no spend in the window, threshold removed) has cleared.
            for state in states.values.sorted(by: { ($0.rule.rawValue, $0.subject) < ($1.rule.rawValue, $1.subject) })
            where state.arming == .fired {
                try tx.saveAlertState(organisationID: organisation.id, rule: state.rule, subject: state.subject,
                                      arming: .armed, lastValue: state.lastValue)
                summary.rearmed.append(Rearmed(organisationID: organisation.id, rule: state.rule,
                                               subject: state.subject, value: state.lastValue))
                let gone = AlertObservation(
                    rule: state.rule, subject: state.subject, breached: false, value: state.lastValue, threshold: "",
                    unit: "", runOutDate: nil, detail: "no longer observed (threshold or budget removed)")
                try resolve(gone, organisation, tx, &summary)
            }
        }
        return summary
    }

    /// Fire from armed when breached; re-arm from fired when cleared; otherwise keep the arming.
    private static func transition(
        _ observation: AlertObservation, from previous: AlertState?, _ organisation: Organisation,
        _ tx: any LedgerAlerting, _ summary: inout Summary
    ) throws {
        let wasFired = previous?.arming == .fired
        let arming: AlertArming = observation.breached ? .fired : .armed
        if observation.breached && !wasFired {
            try fire(observation, organisation, tx, &summary)
        } else if observation.breached, let previous, wasFired, previous.changedAt == summary.asOf,
            previous.lastValue == observation.value
        {
            // Fired at this same instant on the same value: this is a rerun of that evaluation (or
            // the run that fired it was killed after its commit). Reported again, so the rerun
            // answers and exits as that run did (3); nothing is recorded or queued twice.
            summary.fired.append(FiredAlert(organisationID: organisation.id, observation: observation, asOf: summary.asOf))
        } else if !observation.breached && wasFired {
            summary.rearmed.append(Rearmed(organisationID: organisation.id, rule: observation.rule,
                                           subject: observation.subject, value: observation.value))
            try resolve(observation, organisation, tx, &summary)
        }
        try tx.saveAlertState(organisationID: organisation.id, rule: observation.rule,
                              subject: observation.subject, arming: arming, lastValue: observation.value)
    }

    /// A fired crossing cleared: for rules that send it, records a `credits.alert.resolved` alert and
    /// queues it to every webhook, in the caller's transaction (so, like a fired alert, once).
    private static func resolve(
        _ observation: AlertObservation, _ organisation: Organisation, _ tx: any LedgerAlerting,
        _ summary: inout Summary
    ) throws {
        guard observation.rule.sendsResolved else { return }
        let alert = FiredAlert.resolved(organisationID: organisation.id, observation: observation, asOf: summary.asOf)
        try record(alert, observation, organisation, dedupePrefix: "resolved", tx, &summary)
        summary.resolved.append(alert)
    }

    /// Records the alert and queues one delivery per configured webhook, in the caller's transaction.
    private static func fire(
        _ observation: AlertObservation, _ organisation: Organisation, _ tx: any LedgerAlerting,
        _ summary: inout Summary
    ) throws {
        let alert = FiredAlert(organisationID: organisation.id, observation: observation, asOf: summary.asOf)
        try record(alert, observation, organisation, dedupePrefix: "alert", tx, &summary)
        summary.fired.append(alert)
    }

    /// Records `alert` and queues one delivery of it per configured webhook (dedupe key
    /// `<prefix>-<alert id>-<url>`), in the caller's transaction.
    private static func record(
        _ alert: FiredAlert, _ observation: AlertObservation, _ organisation: Organisation, dedupePrefix: String,
        _ tx: any LedgerAlerting, _ summary: inout Summary
    ) throws {
        let body = try alert.jsonBody()
        let alertID = try tx.recordAlertFired(organisationID: organisation.id, rule: observation.rule,
                                              subject: observation.subject, asOf: summary.asOf, payload: body)
        for webhook in organisation.alertWebhooks {
            try tx.enqueueAlertDelivery(
                dedupeKey: "\(dedupePrefix)-\(alertID)-\(webhook.url)", alertID: alertID, organisationID: organisation.id,
                destination: webhook.url, secretEnv: webhook.secretEnv, payload: body)
            summary.queued += 1
        }
    }
}
