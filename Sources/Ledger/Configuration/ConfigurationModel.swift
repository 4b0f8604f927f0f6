import Foundation

/// The world Credits runs in, loaded from YAML files under version control by `credits init`.
/// Every value here is validated (`ConfigurationLoader`) before it reaches the database.
public struct Configuration: Sendable, Equatable {
    public var issuer: Issuer
    public var organisations: [Organisation]
    public var plans: [Plan]
    public var packages: [CreditPackage]
    public var rateCards: [RateCardEntry]
    /// The operations cost events may name (`operations.yaml`); an event naming another is refused
    /// (`unknownOperation`). nil when the file is absent: then any operation is accepted.
    public var operations: [String]?

    public init(
        issuer: Issuer, organisations: [Organisation], plans: [Plan], packages: [CreditPackage],
        rateCards: [RateCardEntry], operations: [String]? = nil
    ) {
        self.issuer = issuer
        self.organisations = organisations
        self.plans = plans
        self.packages = packages
        self.rateCards = rateCards
        self.operations = operations
    }
}

/// The seller on invoices. Invoice numbers are unique and gap-free per issuer.
public struct Issuer: Sendable, Equatable, Codable {
    public var id: String
    public var legalName: String
    public var address: [String]
    public var taxNumber: String?
    public var invoicePrefix: String
    public var email: String?
    /// `usage_earliest`: the usage start of every organisation that has neither `usage_start` nor
    /// `plan_start` (`UsageStart`); nil: none.
    public var usageEarliest: LocalDate? = nil
}

public struct Organisation: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var locale: String
    public var currency: Currency
    public var timeZone: String
    public var planID: String?
    /// The first day of the first plan period to allocate; nil means the period containing the
    /// first reconcile's as-of date.
    public var planStart: LocalDate?
    /// Tax rate in parts per million (20% = 200_000), exact.
    public var taxRatePPM: Int64
    public var paymentTermsDays: Int
    /// How far below zero batch usage may take the balance before it becomes an exception.
    public var overdraftLimit: Credits
    public var thresholds: Thresholds
    public var alertWebhooks: [AlertWebhook]
    public var invoiceDetails: InvoiceDetails
    public var teams: [Team]
    public var investigations: [Investigation]
    public var reservations: [Reservation]

    /// Budgets per scope (`Budget`); nil when none are configured, so the stored settings and the
    /// configuration digest of organisations without budgets are what they were before budgets.
    public var budgets: [Budget]? = nil

    /// `usage_start`: the first day usage may be dated, when it is not the plan start (`UsageStart`).
    public var usageStartDate: LocalDate? = nil

    /// The first instant usage may be charged for, given the issuer's `usage_earliest` (`UsageStart`).
    public func usageStart(earliest: LocalDate?) -> Instant? {
        UsageStart.instant(usageStart: usageStartDate, planStart: planStart, earliest: earliest, timeZone: timeZone)
    }
}

/// When an organisation's usage may start: the first instant, in its own time zone, of the first of
///
/// 1. its `usage_start` (organisations.yaml), when usage legitimately predates the plan;
/// 2. its `plan_start` (its first plan period, when its first allocation lands);
/// 3. the issuer's `usage_earliest` (issuer.yaml): the deployment's start, for organisations that buy
///    top-ups without a plan (the fixtures' `gchq-lab`).
///
/// Why: usage dated before the organisation existed (`2001-01-01`) would be charged against grants
/// that did not exist then, and the report of that period would close below the overdraft limit.
/// Batch ingest and `POST /v1/usage` refuse it (`occurredBeforeOrganisationStart`) through one
/// rule, computed here from the same configuration for both. With none of the three there is no
/// such bound (only the years 2000-2199 every timestamp obeys); `credits init` warns.
public enum UsageStart {
    public static func instant(
        usageStart: LocalDate?, planStart: LocalDate?, earliest: LocalDate?, timeZone: String
    ) -> Instant? {
        guard let date = usageStart ?? planStart ?? earliest, let zone = TimeZone(identifier: timeZone) else {
            return nil
        }
        return date.startInstant(in: zone)
    }
}

public struct Thresholds: Sendable, Equatable, Codable {
    /// Alert when the available balance falls below this many credits.
    public var lowBalanceCredits: Credits?
    /// Alert when the available balance falls below this percentage of the period allocation.
    public var lowBalancePercent: Int?
    /// Alert when fewer than this many days of spendable balance remain at the trailing burn rate.
    public var runwayDays: Int?

    public init(lowBalanceCredits: Credits? = nil, lowBalancePercent: Int? = nil, runwayDays: Int? = nil) {
        self.lowBalanceCredits = lowBalanceCredits
        self.lowBalancePercent = lowBalancePercent
        self.runwayDays = runwayDays
    }
}

public struct AlertWebhook: Sendable, Equatable, Codable {
    public var url: String
    /// Name of the environment variable holding the HMAC signing secret (never the secret itself).
    public var secretEnv: String
}

public struct InvoiceDetails: Sendable, Equatable, Codable {
    public var legalName: String
    public var address: [String]
    public var taxNumber: String?
    public var purchaseOrder: String?
    public var email: String?
}

public struct Team: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
}

public enum InvestigationStatus: String, Sendable, Equatable, Codable {
    case open
    case closed
}

public struct Investigation: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var teamID: String
    public var priority: Priority
    public var status: InvestigationStatus
}

/// Credits kept back for investigations of priority `maxPriority` or higher (P1 is highest).
public struct Reservation: Sendable, Hashable, Codable {
    public var id: String
    public var credits: Credits
    public var maxPriority: Priority

    public init(id: String, credits: Credits, maxPriority: Priority) {
        self.id = id
        self.credits = credits
        self.maxPriority = maxPriority
    }

    /// Whether work at `priority` may spend into this reservation.
    public func admits(_ priority: Priority) -> Bool { priority <= maxPriority }
}

public enum PlanPeriodKind: String, Sendable, Equatable, Codable {
    case month
    case financialYear = "financial_year"
}

public struct Plan: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var period: PlanPeriodKind
    public var creditsPerPeriod: Credits
    /// First month (1-12) of the financial year, for `financial_year` plans.
    public var financialYearStartMonth: Int
    /// Whether unused allocation carries over (allocation grants then never expire).
    public var rollover: Bool
    /// The plan fee per period in each currency it is sold in.
    public var prices: [Money]

    public func price(in currency: Currency) -> Money? { prices.first { $0.currency == currency } }
}

public struct CreditPackage: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var credits: Credits
    public var prices: [Money]
    /// Purchased credits expire this many days after purchase; nil means never.
    public var expiresAfterDays: Int?

    public func price(in currency: Currency) -> Money? { prices.first { $0.currency == currency } }
}

/// Credits charged per unit of an operation (e.g. `transcription` per `minute`). An entry with
/// `organisationID == nil` is the default; an organisation's own entry overrides it.
public struct RateCardEntry: Sendable, Equatable, Codable {
    public var organisationID: String?
    public var operation: String
    public var unit: String
    public var creditsPerUnit: Credits
}

extension Money: Codable {
    private enum CodingKeys: String, CodingKey {
        case minorUnits = "minor_units"
        case currency
        case amount
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            minorUnits: try container.decode(Int64.self, forKey: .minorUnits),
            currency: try container.decode(Currency.self, forKey: .currency))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(minorUnits, forKey: .minorUnits)
        try container.encode(currency, forKey: .currency)
        // For people reading the JSON; decoding uses only the exact minor units.
        try container.encode(amountText, forKey: .amount)
    }
}
