import Foundation
import Yams

/// A configuration problem, naming the file, the line (when the key path leads to one), the key
/// path and what is wrong: `organisations.yaml:7: [1].time_zone: Mars/Base is not an IANA time zone`.
public struct ConfigurationError: ClassifiedError, Equatable {
    public let file: String
    public let key: String
    public let problem: String
    /// The 1-based line of the YAML node the key path names (or of the deepest node on the path that
    /// exists, for a missing key); nil when the path leads nowhere in the file.
    public let line: Int?

    public init(file: String, key: String, problem: String, line: Int? = nil) {
        self.file = file
        self.key = key
        self.problem = problem
        self.line = line
    }

    public var failureClass: FailureClass { .badData }
    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(key): \(problem)" }

    /// This error with `line` found by following `key` through the file in `directory`. Validation
    /// happens on decoded values, which carry no positions, so the line is looked up in one place here.
    func locating(in directory: String) -> ConfigurationError {
        guard line == nil else { return self }
        let path = (directory as NSString).appendingPathComponent(file)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let root = try? Yams.compose(yaml: text)
        else { return self }
        return ConfigurationError(file: file, key: key, problem: problem, line: YAMLKeyPath(key)?.line(in: root))
    }
}

/// A key path as configuration errors print it (`[1].rates.ocr`, `id`), resolved against a YAML node.
struct YAMLKeyPath {
    enum Component: Equatable {
        case key(String)
        case index(Int)
    }

    let components: [Component]

    /// Nil for the placeholders `(top level)` and `(file)`, and for anything that is not a path.
    init?(_ text: String) {
        guard !text.isEmpty, !text.hasPrefix("(") else { return nil }
        var components: [Component] = []
        for segment in text.split(separator: ".", omittingEmptySubsequences: true) {
            var rest = Substring(segment)
            if let open = rest.firstIndex(of: "["), open != rest.startIndex {
                components.append(.key(String(rest[..<open])))
                rest = rest[open...]
            }
            while rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]"), let index = Int(rest[rest.index(after: rest.startIndex)..<close])
                else { return nil }
                components.append(.index(index))
                rest = rest[rest.index(after: close)...]
            }
            if !rest.isEmpty { components.append(.key(String(rest))) }
        }
        guard !components.isEmpty else { return nil }
        self.components = components
    }

    /// The line of the node the path names, or of the deepest node reached when a later step is
    /// missing; nil when not even the first step exists (a line there would point at nothing).
    func line(in root: Node) -> Int? {
        var node = root
        var reached: Node?
        for component in components {
            let next: Node?
            switch component {
            case .key(let name): next = node.mapping?[name]
            case .index(let index):
                next = node.sequence.flatMap { $0.indices.contains(index) ? $0[index] : nil }
            }
            guard let next else { break }
            node = next
            reached = next
        }
        return reached?.mark?.line
    }
}

/// The configuration directory is missing a file, or a file cannot be read.
public struct ConfigurationMissing: ClassifiedError {
    public let path: String
    public var failureClass: FailureClass { .inputMissing }
    public var description: String { "\(path): no such configuration file" }
}

/// Loads and validates a configuration directory:
/// `issuer.yaml`, `organisations.yaml`, `plans.yaml`, `packages.yaml`, `rate_cards.yaml`, and
/// optionally `operations.yaml`.
public enum ConfigurationLoader {
    public static let fileNames = ["issuer.yaml", "organisations.yaml", "plans.yaml", "packages.yaml", "rate_cards.yaml"]

    public static func load(directory: String) throws -> Configuration {
        do {
            return try loadWithoutLines(directory: directory)
        } catch let error as ConfigurationError {
            throw error.locating(in: directory)
        }
    }

    private static func loadWithoutLines(directory: String) throws -> Configuration {
        let issuerFile: IssuerFile = try decode(directory, "issuer.yaml")
        let planFiles: [PlanFile] = try decode(directory, "plans.yaml")
        let packageFiles: [PackageFile] = try decode(directory, "packages.yaml")
        let organisationFiles: [OrganisationFile] = try decode(directory, "organisations.yaml")
        let rateFile: RateCardsFile = try decode(directory, "rate_cards.yaml")

        let plans = try planFiles.enumerated().map { try plan($1, key: "[\($0)]") }
        try requireUnique(plans.map(\.id), file: "plans.yaml", what: "plan id")
        let packages = try packageFiles.enumerated().map { try package($1, key: "[\($0)]") }
        try requireUnique(packages.map(\.id), file: "packages.yaml", what: "package id")
        let organisations = try organisationFiles.enumerated().map {
            try organisation($1, key: "[\($0)]", plans: plans)
        }
        try requireUnique(organisations.map(\.id), file: "organisations.yaml", what: "organisation id")
        let operations = try self.operations(directory)
        let rateCards = try rates(rateFile, organisations: organisations, operations: operations)
        let issuer = Issuer(
            id: try identifier(issuerFile.id, file: "issuer.yaml", key: "id"),
            legalName: issuerFile.legal_name, address: issuerFile.address, taxNumber: issuerFile.tax_number,
            invoicePrefix: issuerFile.invoice_prefix, email: issuerFile.email,
            usageEarliest: try date(issuerFile.usage_earliest, file: "issuer.yaml", key: "usage_earliest"))
        return Configuration(
            issuer: issuer, organisations: organisations, plans: plans, packages: packages, rateCards: rateCards,
            operations: operations)
    }

    /// `operations.yaml`, a list of operation ids; nil when the file is absent.
    private static func operations(_ directory: String) throws -> [String]? {
        let name = "operations.yaml"
        guard FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent(name)) else {
            return nil
        }
        let listed: [String] = try decode(directory, name)
        guard !listed.isEmpty else {
            throw ConfigurationError(
                file: name, key: "(top level)",
                problem: "lists no operation; list the operations cost events may name, or remove the file")
        }
        let operations = try listed.enumerated().map { try identifier($1, file: name, key: "[\($0)]") }
        try requireUnique(operations, file: name, what: "operation")
        return operations
    }

    // MARK: - Files

    private static func decode<T: Decodable>(_ directory: String, _ name: String) throws -> T {
        let path = (directory as NSString).appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: path) else { throw ConfigurationMissing(path: path) }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(file: name, key: "(file)", problem: "not readable as UTF-8 text")
        }
        do {
            return try YAMLDecoder().decode(T.self, from: text)
        } catch let error as DecodingError {
            // YAMLDecoder reports a syntax error as corrupted data wrapping the parser's error.
            if case .dataCorrupted(let context) = error, let syntax = context.underlyingError as? YamlError {
                throw syntaxError(syntax, file: name)
            }
            throw ConfigurationError(file: name, key: keyPath(of: error), problem: problem(of: error))
        } catch let error as YamlError {
            throw syntaxError(error, file: name)
        } catch {
            throw ConfigurationError(file: name, key: "(file)", problem: "not valid YAML: \(error)")
        }
    }

    /// Yams' scanner, parser and composer errors carry the position (a mark) of the problem.
    private static func syntaxError(_ error: YamlError, file: String) -> ConfigurationError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            ConfigurationError(file: file, key: "(file)", problem: "not valid YAML: \(problem)", line: mark.line)
        default:
            ConfigurationError(file: file, key: "(file)", problem: "not valid YAML: \(error)")
        }
    }

    private static func keyPath(of error: DecodingError) -> String {
        let path: [any CodingKey]
        switch error {
        case .keyNotFound(let key, let context): path = context.codingPath + [key]
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            path = context.codingPath
        @unknown default: path = []
        }
        if path.isEmpty { return "(top level)" }
        return path.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
            .trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }

    private static func problem(of error: DecodingError) -> String {
        switch error {
        case .keyNotFound: "required key is missing"
        case .typeMismatch(let type, _): "expected \(type)"
        case .valueNotFound(let type, _): "expected \(type), found nothing"
        case .dataCorrupted(let context): context.debugDescription
        @unknown default: "invalid"
        }
    }

    // MARK: - Validation

    private static func organisation(_ file: OrganisationFile, key: String, plans: [Plan]) throws -> Organisation {
        let name = "organisations.yaml"
        let id = try identifier(file.id, file: name, key: "\(key).id")
        let currency = try resolveCurrency(file, file: name, key: key)
        let timeZone = file.time_zone ?? "UTC"
        guard TimeZone(identifier: timeZone) != nil else {
            throw ConfigurationError(file: name, key: "\(key).time_zone", problem: "\(timeZone) is not an IANA time zone")
        }
        if let planID = file.plan {
            guard let plan = plans.first(where: { $0.id == planID }) else {
                throw ConfigurationError(file: name, key: "\(key).plan", problem: "no plan \(planID) in plans.yaml")
            }
            guard plan.price(in: currency) != nil else {
                throw ConfigurationError(
                    file: name, key: "\(key).plan", problem: "plan \(planID) has no price in \(currency.code)")
            }
        }
        let teams = try (file.teams ?? []).enumerated().map { index, team in
            Team(id: try identifier(team.id, file: name, key: "\(key).teams[\(index)].id"), name: team.name)
        }
        try requireUnique(teams.map(\.id), file: name, what: "team id in \(key)")
        let investigations = try (file.investigations ?? []).enumerated().map { index, item in
            try investigation(item, key: "\(key).investigations[\(index)]", teams: teams)
        }
        try requireUnique(investigations.map(\.id), file: name, what: "investigation id in \(key)")
        let reservations = try (file.reservations ?? []).enumerated().map { index, item in
            try reservation(item, key: "\(key).reservations[\(index)]")
        }
        let budgets = try (file.budgets ?? []).enumerated().map { index, item in
            try budget(item, key: "\(key).budgets[\(index)]", organisationID: id, teams: teams,
                       investigations: investigations, plan: plans.first { $0.id == file.plan })
        }
        try requireUnique(budgets.map(\.key), file: name, what: "budget scope in \(key)")
        try checkNesting(budgets, key: key, investigations: investigations)
        var organisation = Organisation(
            id: id, name: file.name, locale: file.locale, currency: currency, timeZone: timeZone,
            planID: file.plan, planStart: try planStart(file.plan_start, key: "\(key).plan_start"),
            taxRatePPM: try taxRate(file.tax_rate_percent, key: "\(key).tax_rate_percent"),
            paymentTermsDays: try nonNegative(file.payment_terms_days ?? 30, key: "\(key).payment_terms_days"),
            overdraftLimit: try credits(file.overdraft_limit, file: name, key: "\(key).overdraft_limit") ?? .zero,
            thresholds: try thresholds(file.thresholds, key: "\(key).thresholds"),
            alertWebhooks: (file.alert_webhooks ?? []).map { AlertWebhook(url: $0.url, secretEnv: $0.secret_env) },
            invoiceDetails: InvoiceDetails(
                legalName: file.invoice?.legal_name ?? file.name, address: file.invoice?.address ?? [],
                taxNumber: file.invoice?.tax_number, purchaseOrder: file.invoice?.purchase_order,
                email: file.invoice?.email),
            teams: teams, investigations: investigations, reservations: reservations,
            usageStartDate: try date(file.usage_start, file: name, key: "\(key).usage_start"))
        organisation.budgets = budgets.isEmpty ? nil : budgets
        return organisation
    }

    private static func budget(
        _ file: BudgetFile, key: String, organisationID: String, teams: [Team], investigations: [Investigation],
        plan: Plan?
    ) throws -> Budget {
        let name = "organisations.yaml"
        guard let scope = SpendScopeKind(rawValue: file.scope) else {
            throw ConfigurationError(file: name, key: "\(key).scope", problem: "expected organisation, team or investigation")
        }
        let scopeID: String
        switch scope {
        case .organisation:
            if let id = file.id, id != organisationID {
                throw ConfigurationError(file: name, key: "\(key).id", problem: "an organisation budget names its own organisation or no id")
            }
            scopeID = organisationID
        case .team, .investigation:
            guard let id = file.id else {
                throw ConfigurationError(file: name, key: "\(key).id", problem: "a \(scope.rawValue) budget names its \(scope.rawValue)")
            }
            let known = scope == .team ? teams.contains { $0.id == id } : investigations.contains { $0.id == id }
            guard known else {
                throw ConfigurationError(file: name, key: "\(key).id", problem: "no \(scope.rawValue) \(id) in this organisation")
            }
            scopeID = id
        }
        guard let limit = try credits(file.limit, file: name, key: "\(key).limit"), limit.isPositive else {
            throw ConfigurationError(file: name, key: "\(key).limit", problem: "must be positive")
        }
        let mode = try file.mode.map { text in
            guard let mode = BudgetMode(rawValue: text) else {
                throw ConfigurationError(file: name, key: "\(key).mode", problem: "expected hard or soft")
            }
            return mode
        } ?? .hard
        let percents = file.alert_at_percent ?? Budget.alertPercentsDefault
        guard percents.allSatisfy({ (1...1000).contains($0) }), percents == percents.sorted(), Set(percents).count == percents.count
        else {
            throw ConfigurationError(file: name, key: "\(key).alert_at_percent", problem: "expected ascending distinct percentages from 1 to 1000")
        }
        return Budget(scope: scope, scopeID: scopeID, limit: limit, period: try budgetPeriod(file, key: key, plan: plan),
                      mode: mode, alertPercents: percents)
    }

    /// A financial year starts in the budget's own `financial_year_start_month`, else in the
    /// organisation's plan's (`plans.yaml`), else in January (the calendar year).
    private static func budgetPeriod(_ file: BudgetFile, key: String, plan: Plan?) throws -> BudgetPeriod {
        let name = "organisations.yaml"
        switch file.period {
        case "month": return .month
        case "financial_year":
            let month = BudgetPeriod.financialYearStartMonth(
                own: file.financial_year_start_month, plan: plan?.financialYearStartMonth)
            guard (1...12).contains(month) else {
                throw ConfigurationError(file: name, key: "\(key).financial_year_start_month", problem: "must be 1 to 12")
            }
            return .financialYear(startMonth: month)
        case "range":
            guard let start = try date(file.starts_on, file: name, key: "\(key).starts_on") else {
                throw ConfigurationError(file: name, key: "\(key).starts_on", problem: "a range budget names its first day")
            }
            guard let end = try date(file.ends_on, file: name, key: "\(key).ends_on") else {
                throw ConfigurationError(file: name, key: "\(key).ends_on", problem: "a range budget names its last day")
            }
            guard start <= end else {
                throw ConfigurationError(file: name, key: "\(key).ends_on", problem: "\(end) is before starts_on \(start)")
            }
            return .range(start: start, end: end)
        default:
            throw ConfigurationError(file: name, key: "\(key).period", problem: "expected month, financial_year or range")
        }
    }

    /// A child's limit may not exceed its parent's for an overlapping period: the error names both.
    private static func checkNesting(_ budgets: [Budget], key: String, investigations: [Investigation]) throws {
        let teamOf = { (id: String) in investigations.first { $0.id == id }?.teamID }
        guard let (child, parent) = BudgetNesting.violation(in: budgets, teamOf: teamOf) else { return }
        let index = budgets.firstIndex(of: child)!
        throw ConfigurationError(
            file: "organisations.yaml", key: "\(key).budgets[\(index)].limit",
            problem: "the \(child.scope.rawValue) \(child.scopeID) budget (\(child.limit) per \(child.period.name)) "
                + "exceeds its parent, the \(parent.scope.rawValue) \(parent.scopeID) budget (\(parent.limit) per "
                + "\(parent.period.name))")
    }

    private static func resolveCurrency(_ file: OrganisationFile, file name: String, key: String) throws -> Currency {
        if let code = file.currency {
            guard let currency = Currency(code: code) else {
                throw ConfigurationError(
                    file: name, key: "\(key).currency", problem: "\(code) is not an active ISO 4217 code")
            }
            return currency
        }
        guard let currency = Currency.forLocale(file.locale) else {
            throw ConfigurationError(
                file: name, key: "\(key).locale",
                problem: "cannot resolve a currency from locale \(file.locale); set `currency` explicitly")
        }
        return currency
    }

    private static func investigation(_ file: InvestigationFile, key: String, teams: [Team]) throws -> Investigation {
        let name = "organisations.yaml"
        guard teams.contains(where: { $0.id == file.team }) else {
            throw ConfigurationError(file: name, key: "\(key).team", problem: "no team \(file.team) in this organisation")
        }
        guard let priority = Priority(file.priority) else {
            throw ConfigurationError(file: name, key: "\(key).priority", problem: "expected P1, P2, P3 or P4")
        }
        guard let status = InvestigationStatus(rawValue: file.status ?? "open") else {
            throw ConfigurationError(file: name, key: "\(key).status", problem: "expected open or closed")
        }
        return Investigation(
            id: try identifier(file.id, file: name, key: "\(key).id"), name: file.name, teamID: file.team,
            priority: priority, status: status)
    }

    private static func reservation(_ file: ReservationFile, key: String) throws -> Reservation {
        let name = "organisations.yaml"
        guard let amount = try credits(file.credits, file: name, key: "\(key).credits"), amount.isPositive else {
            throw ConfigurationError(file: name, key: "\(key).credits", problem: "must be positive")
        }
        guard let priority = Priority(file.max_priority) else {
            throw ConfigurationError(file: name, key: "\(key).max_priority", problem: "expected P1, P2, P3 or P4")
        }
        return Reservation(
            id: try identifier(file.id, file: name, key: "\(key).id"), credits: amount, maxPriority: priority)
    }

    private static func thresholds(_ file: ThresholdsFile?, key: String) throws -> Thresholds {
        guard let file else { return Thresholds() }
        if let percent = file.low_balance_percent, !(0...100).contains(percent) {
            throw ConfigurationError(
                file: "organisations.yaml", key: "\(key).low_balance_percent", problem: "must be 0 to 100")
        }
        return Thresholds(
            lowBalanceCredits: try credits(file.low_balance_credits, file: "organisations.yaml",
                                           key: "\(key).low_balance_credits"),
            lowBalancePercent: file.low_balance_percent,
            runwayDays: try file.runway_days.map { try nonNegative($0, key: "\(key).runway_days") })
    }

    private static func plan(_ file: PlanFile, key: String) throws -> Plan {
        let name = "plans.yaml"
        guard let period = PlanPeriodKind(rawValue: file.period) else {
            throw ConfigurationError(file: name, key: "\(key).period", problem: "expected month or financial_year")
        }
        let startMonth = file.financial_year_start_month ?? 1
        guard (1...12).contains(startMonth) else {
            throw ConfigurationError(file: name, key: "\(key).financial_year_start_month", problem: "must be 1 to 12")
        }
        guard let perPeriod = try credits(file.credits_per_period, file: name, key: "\(key).credits_per_period"),
            perPeriod.isPositive
        else {
            throw ConfigurationError(file: name, key: "\(key).credits_per_period", problem: "must be positive")
        }
        return Plan(
            id: try identifier(file.id, file: name, key: "\(key).id"), name: file.name, period: period,
            creditsPerPeriod: perPeriod, financialYearStartMonth: startMonth, rollover: file.rollover ?? false,
            prices: try prices(file.prices, file: name, key: "\(key).prices"))
    }

    private static func package(_ file: PackageFile, key: String) throws -> CreditPackage {
        let name = "packages.yaml"
        guard let amount = try credits(file.credits, file: name, key: "\(key).credits"), amount.isPositive else {
            throw ConfigurationError(file: name, key: "\(key).credits", problem: "must be positive")
        }
        if let days = file.expires_after_days, days <= 0 {
            throw ConfigurationError(file: name, key: "\(key).expires_after_days", problem: "must be positive")
        }
        return CreditPackage(
            id: try identifier(file.id, file: name, key: "\(key).id"), name: file.name, credits: amount,
            prices: try prices(file.prices, file: name, key: "\(key).prices"), expiresAfterDays: file.expires_after_days)
    }

    private static func rates(
        _ file: RateCardsFile, organisations: [Organisation], operations: [String]?
    ) throws -> [RateCardEntry] {
        var entries: [RateCardEntry] = []
        for (index, rate) in (file.default ?? []).enumerated() {
            entries.append(try rateEntry(rate, organisation: nil, key: "default[\(index)]", operations: operations))
        }
        for (organisationID, rates) in (file.organisations ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard organisations.contains(where: { $0.id == organisationID }) else {
                throw ConfigurationError(
                    file: "rate_cards.yaml", key: "organisations.\(organisationID)",
                    problem: "no organisation \(organisationID) in organisations.yaml")
            }
            for (index, rate) in rates.enumerated() {
                entries.append(try rateEntry(
                    rate, organisation: organisationID, key: "organisations.\(organisationID)[\(index)]",
                    operations: operations))
            }
        }
        try requireUnique(
            entries.map { "\($0.organisationID ?? "*") \($0.operation) per \($0.unit)" },
            file: "rate_cards.yaml", what: "rate")
        return entries
    }

    private static func rateEntry(
        _ rate: RateFile, organisation: String?, key: String, operations: [String]?
    ) throws -> RateCardEntry {
        if let operations, !operations.contains(rate.operation) {
            throw ConfigurationError(
                file: "rate_cards.yaml", key: "\(key).operation",
                problem: "\(rate.operation) is not an operation in operations.yaml")
        }
        guard let perUnit = try credits(rate.credits_per_unit, file: "rate_cards.yaml", key: "\(key).credits_per_unit"),
            perUnit.isPositive
        else {
            throw ConfigurationError(file: "rate_cards.yaml", key: "\(key).credits_per_unit", problem: "must be positive")
        }
        return RateCardEntry(
            organisationID: organisation, operation: rate.operation, unit: rate.unit, creditsPerUnit: perUnit)
    }

    // MARK: - Values

    private static func prices(_ table: [String: DecimalText], file: String, key: String) throws -> [Money] {
        guard !table.isEmpty else { throw ConfigurationError(file: file, key: key, problem: "at least one price is required") }
        return try table.sorted(by: { $0.key < $1.key }).map { code, amount in
            guard let currency = Currency(code: code) else {
                throw ConfigurationError(file: file, key: "\(key).\(code)", problem: "\(code) is not an active ISO 4217 code")
            }
            switch Money.parse(major: amount.text, currency: currency) {
            case .success(let money) where money.minorUnits >= 0: return money
            case .success: throw ConfigurationError(file: file, key: "\(key).\(code)", problem: "must not be negative")
            case .failure(let error): throw ConfigurationError(file: file, key: "\(key).\(code)", problem: "\(error)")
            }
        }
    }

    private static func credits(_ text: DecimalText?, file: String, key: String) throws -> Credits? {
        guard let text else { return nil }
        switch Credits.parse(text.text) {
        case .success(let value) where value > Credits.transferMax:
            // An allocation, package or reservation of more could never be posted (one transfer each).
            throw ConfigurationError(
                file: file, key: key, problem: "\(text.text) is more than \(Credits.transferMax) (Credits.transferMax)")
        case .success(let value) where !value.isNegative: return value
        case .success: throw ConfigurationError(file: file, key: key, problem: "must not be negative")
        case .failure(let error): throw ConfigurationError(file: file, key: key, problem: "\(text.text): \(error)")
        }
    }

    private static func taxRate(_ text: DecimalText?, key: String) throws -> Int64 {
        guard let text else { return 0 }
        guard case .success(let decimal) = ExactDecimal.parse(text.text), decimal.significand >= 0,
            let ppm = decimal.scaled(toPlaces: 4), ppm <= 1_000_000
        else {
            throw ConfigurationError(
                file: "organisations.yaml", key: key,
                problem: "\(text.text): expected a percentage from 0 to 100 with at most 4 decimals")
        }
        return ppm
    }

    private static func date(_ text: String?, file: String, key: String) throws -> LocalDate? {
        guard let text else { return nil }
        guard let date = LocalDate.parse(text) else {
            throw ConfigurationError(file: file, key: key, problem: "\(text) is not a YYYY-MM-DD date")
        }
        return date
    }

    private static func planStart(_ text: String?, key: String) throws -> LocalDate? {
        guard let text else { return nil }
        guard let date = LocalDate.parse(text) else {
            throw ConfigurationError(file: "organisations.yaml", key: key, problem: "\(text) is not a YYYY-MM-DD date")
        }
        return date
    }

    private static func nonNegative(_ value: Int, key: String) throws -> Int {
        guard value >= 0 else { throw ConfigurationError(file: "organisations.yaml", key: key, problem: "must not be negative") }
        return value
    }

    /// Identifiers are what reports and references join on: ASCII letters, digits, `-`, `_`, `.`.
    static func identifier(_ value: String, file: String, key: String) throws -> String {
        let allowed = value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F || byte == 0x2E
        }
        guard !value.isEmpty, value.utf8.count <= 64, allowed else {
            throw ConfigurationError(
                file: file, key: key, problem: "\"\(value)\" must be 1-64 characters of A-Z a-z 0-9 - _ .")
        }
        return value
    }

    private static func requireUnique(_ values: [String], file: String, what: String) throws {
        var seen = Set<String>()
        for value in values where !seen.insert(value).inserted {
            throw ConfigurationError(file: file, key: value, problem: "duplicate \(what)")
        }
    }
}
