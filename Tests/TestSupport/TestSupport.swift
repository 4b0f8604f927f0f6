import Foundation
@testable import Ledger

/// A fresh directory under the system temporary directory, removed when the value is released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "credits") {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/\(label)-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> String { "\(path)/\(name)" }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A controllable clock for tests: starts at a fixed instant and moves only when told to.
public final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Instant

    public init(_ start: String = "2026-11-01T09:00:00Z") {
        current = try! Instant.parse(start).get()
    }

    public var now: Instant { lock.withLock { current } }

    public func set(_ text: String) { lock.withLock { current = try! Instant.parse(text).get() } }

    public func advance(days: Int) { lock.withLock { current = current.adding(days: days) } }

    public var provider: @Sendable () -> Instant { { self.now } }
}

public func instant(_ text: String) -> Instant { try! Instant.parse(text).get() }

public func credits(_ text: String) -> Credits { try! Credits.parse(text).get() }

/// The repository root, found from this file's location (Tests/TestSupport/TestSupport.swift).
public let repositoryRoot: String = {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
}()

/// A small configuration built in code, for unit tests that do not need the fixture files.
public enum SampleWorld {
    public static func organisation(
        _ id: String, currency: Currency = .gbp, reservations: [Reservation] = [], overdraft: Credits = .zero
    ) -> Organisation {
        Organisation(
            id: id, name: "Organisation \(id)", locale: "en-GB", currency: currency, timeZone: "Europe/London",
            planID: nil, planStart: nil, taxRatePPM: 200_000, paymentTermsDays: 30, overdraftLimit: overdraft,
            thresholds: Thresholds(), alertWebhooks: [],
            invoiceDetails: InvoiceDetails(legalName: "Org \(id)", address: [], taxNumber: nil, purchaseOrder: nil, email: nil),
            teams: [Team(id: "analysis", name: "Analysis")],
            investigations: [
                Investigation(id: "op-urgent", name: "Urgent", teamID: "analysis", priority: .p1, status: .open),
                Investigation(id: "op-routine", name: "Routine", teamID: "analysis", priority: .p3, status: .open),
            ],
            reservations: reservations)
    }

    /// A monthly plan priced in GBP (allocation grants expire at the period end).
    public static func monthlyPlan(_ id: String, credits: Credits, priceMinorGBP: Int64) -> Plan {
        Plan(id: id, name: "Plan \(id)", period: .month, creditsPerPeriod: credits, financialYearStartMonth: 1,
             rollover: false, prices: [Money(minorUnits: priceMinorGBP, currency: .gbp)])
    }

    public static func configuration(_ organisations: [Organisation], plans: [Plan] = []) -> Configuration {
        Configuration(
            issuer: Issuer(id: "credits-ltd", legalName: "Credits Ltd", address: ["1 Test Street"], taxNumber: nil,
                           invoicePrefix: "CR-", email: nil),
            organisations: organisations, plans: plans, packages: [], rateCards: [])
    }

    /// A migrated ledger in a temporary directory, loaded with `organisations`.
    public static func ledger(
        in directory: TemporaryDirectory, organisations: [Organisation], plans: [Plan] = [],
        clock: TestClock = TestClock()
    ) throws -> LedgerDatabase {
        let database = try LedgerDatabase.create(at: directory.file("ledger.sqlite"), clock: clock.provider)
        _ = try database.write { try $0.load(configuration(organisations, plans: plans)) }
        return database
    }
}
