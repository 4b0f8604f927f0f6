/// The YAML shapes of the configuration files, exactly as written by people. Amounts are kept as
/// text here and parsed exactly by `ConfigurationLoader`, which also resolves defaults.
struct IssuerFile: Decodable {
    var id: String
    var legal_name: String
    var address: [String]
    var tax_number: String?
    var invoice_prefix: String
    var email: String?
    var usage_earliest: String?
}

struct OrganisationFile: Decodable {
    var id: String
    var name: String
    var locale: String
    var currency: String?
    var time_zone: String?
    var plan: String?
    var plan_start: String?
    var usage_start: String?
    var tax_rate_percent: DecimalText?
    var payment_terms_days: Int?
    var overdraft_limit: DecimalText?
    var thresholds: ThresholdsFile?
    var alert_webhooks: [AlertWebhookFile]?
    var invoice: InvoiceFile?
    var teams: [TeamFile]?
    var investigations: [InvestigationFile]?
    var reservations: [ReservationFile]?
    var budgets: [BudgetFile]?
}

/// `scope: team`, `id: alpha`, `limit: 40000`, `period: month` (or `financial_year`, or `range` with
/// `starts_on` and `ends_on`), `mode: hard`, `alert_at_percent: [80, 100]`.
struct BudgetFile: Decodable {
    var scope: String
    var id: String?
    var limit: DecimalText
    var period: String
    var financial_year_start_month: Int?
    var starts_on: String?
    var ends_on: String?
    var mode: String?
    var alert_at_percent: [Int]?
}

struct ThresholdsFile: Decodable {
    var low_balance_credits: DecimalText?
    var low_balance_percent: Int?
    var runway_days: Int?
}

struct AlertWebhookFile: Decodable {
    var url: String
    var secret_env: String
}

struct InvoiceFile: Decodable {
    var legal_name: String?
    var address: [String]?
    var tax_number: String?
    var purchase_order: String?
    var email: String?
}

struct TeamFile: Decodable {
    var id: String
    var name: String
}

struct InvestigationFile: Decodable {
    var id: String
    var name: String
    var team: String
    var priority: String
    var status: String?
}

struct ReservationFile: Decodable {
    var id: String
    var credits: DecimalText
    var max_priority: String
}

struct PlanFile: Decodable {
    var id: String
    var name: String
    var period: String
    var credits_per_period: DecimalText
    var financial_year_start_month: Int?
    var rollover: Bool?
    var prices: [String: DecimalText]
}

struct PackageFile: Decodable {
    var id: String
    var name: String
    var credits: DecimalText
    var prices: [String: DecimalText]
    var expires_after_days: Int?
}

struct RateCardsFile: Decodable {
    var `default`: [RateFile]?
    var organisations: [String: [RateFile]]?
}

struct RateFile: Decodable {
    var operation: String
    var unit: String
    var credits_per_unit: DecimalText
}

/// A decimal written in YAML either as a number (`50000`, `2.5`) or as a string (`"450.00"`).
/// It is captured as text so it can be parsed exactly, never through a binary float.
struct DecimalText: Decodable {
    var text: String

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            text = string
        } else if let integer = try? container.decode(Int64.self) {
            text = String(integer)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a decimal number")
        }
    }
}
