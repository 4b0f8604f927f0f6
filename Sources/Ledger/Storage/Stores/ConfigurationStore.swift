import Crypto
import Foundation
import GRDB

/// What `credits init` changed in the configuration tables.
public struct ConfigurationChange: Sendable, Equatable, Codable {
    public var organisations: Int
    public var teams: Int
    public var investigations: Int
    public var plans: Int
    public var packages: Int
    public var rateCardEntries: Int
    /// SHA-256 of the canonical configuration; equal digests mean nothing changed.
    public var digest: String
    public var changed: Bool
}

extension LedgerTransaction {
    /// Writes the configuration (`ConfigurationLoad`), forgetting what the posting state had cached of
    /// every organisation it names.
    public func load(_ configuration: Configuration) throws -> ConfigurationChange {
        let change = try ConfigurationLoad.load(configuration, now: now, on: sql)
        if change.changed {
            for organisation in configuration.organisations { postingState.forget(organisation.id) }
        }
        return change
    }

    func insert(_ reservation: Reservation, for organisationID: String) throws {
        try ConfigurationLoad.insert(reservation, for: organisationID, on: sql)
    }
}

/// `credits init`'s write of the configuration, in portable SQL: the same statements on either store.
enum ConfigurationLoad {
    /// Writes the configuration, replacing what was loaded before. Organisations, teams and
    /// investigations are upserted and never deleted (the ledger references them); prices,
    /// reservations and rate cards are replaced. Loading the same configuration twice changes nothing.
    static func load(_ configuration: Configuration, now: Instant, on sql: some SQLSession) throws -> ConfigurationChange {
        let digest = try ConfigurationCodec.digest(configuration)
        let previous = try sql.strings("SELECT value FROM meta WHERE key = 'configuration_digest'").first
        let change = ConfigurationChange(
            organisations: configuration.organisations.count,
            teams: configuration.organisations.reduce(0) { $0 + $1.teams.count },
            investigations: configuration.organisations.reduce(0) { $0 + $1.investigations.count },
            plans: configuration.plans.count, packages: configuration.packages.count,
            rateCardEntries: configuration.rateCards.count, digest: digest, changed: previous != digest)
        guard change.changed else { return change }

        try sql.execute(
            "INSERT INTO issuer (id, settings) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET settings = excluded.settings",
            [.text(configuration.issuer.id), .text(try ConfigurationCodec.json(configuration.issuer))])
        for plan in configuration.plans {
            try sql.execute(
                """
                INSERT INTO plans (id, period, credits_per_period, settings) VALUES (?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET period = excluded.period,
                    credits_per_period = excluded.credits_per_period, settings = excluded.settings
                """,
                [.text(plan.id), .text(plan.period.rawValue), .integer(plan.creditsPerPeriod.microcredits),
                 .text(try ConfigurationCodec.json(plan))])
        }
        for package in configuration.packages {
            try sql.execute(
                """
                INSERT INTO credit_packages (id, credits, settings) VALUES (?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET credits = excluded.credits, settings = excluded.settings
                """,
                [.text(package.id), .integer(package.credits.microcredits), .text(try ConfigurationCodec.json(package))])
        }
        // Reservations and thresholds may have been changed live; what this load replaces is audited.
        let attribution = ConfigurationChangeAttribution(actor: "config:\(digest.prefix(12))", idempotencyKey: nil)
        for organisation in configuration.organisations {
            let before = try ConfigurationQueries.organisation(organisation.id, on: sql)
            try upsert(organisation, on: sql)
            if let before {
                try ConfigurationChangeLog.recordConfigured(
                    before: before, after: organisation, attribution: attribution, now: now, on: sql)
            }
        }
        try sql.execute("DELETE FROM operations")
        for operation in configuration.operations ?? [] {
            try sql.execute("INSERT INTO operations (id) VALUES (?)", [.text(operation)])
        }
        try sql.execute("DELETE FROM rate_cards")
        for rate in configuration.rateCards {
            try sql.execute(
                "INSERT INTO rate_cards (organisation_id, operation, unit, credits_per_unit) VALUES (?, ?, ?, ?)",
                [.text(rate.organisationID ?? ""), .text(rate.operation), .text(rate.unit),
                 .integer(rate.creditsPerUnit.microcredits)])
        }
        try sql.execute(
            """
            INSERT INTO meta (key, value) VALUES ('configuration_digest', ?)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value
            """,
            [.text(digest)])
        return change
    }

    private static func upsert(_ organisation: Organisation, on sql: some SQLSession) throws {
        try sql.execute(
            """
            INSERT INTO organisations (id, name, currency, time_zone, plan_id, overdraft_limit, settings)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, currency = excluded.currency,
                time_zone = excluded.time_zone, plan_id = excluded.plan_id,
                overdraft_limit = excluded.overdraft_limit, settings = excluded.settings
            """,
            [.text(organisation.id), .text(organisation.name), .text(organisation.currency.code),
             .text(organisation.timeZone), SQLValue(organisation.planID), .integer(organisation.overdraftLimit.microcredits),
             .text(try ConfigurationCodec.json(organisation))])
        let existingCurrency = try sql.strings(
            "SELECT currency FROM transfers WHERE organisation_id = ? LIMIT 1", [.text(organisation.id)]).first
        if let existingCurrency, existingCurrency != organisation.currency.code {
            throw ConfigurationError(
                file: "organisations.yaml", key: organisation.id,
                problem: "currency changed from \(existingCurrency) to \(organisation.currency.code) after transfers were posted")
        }
        try sql.execute(
            "INSERT INTO accounts (id, organisation_id, kind) VALUES (?, ?, 'available') ON CONFLICT (id) DO NOTHING",
            [.text(AccountID.available(organisationID: organisation.id).rawValue), .text(organisation.id)])
        for team in organisation.teams {
            try sql.execute(
                """
                INSERT INTO teams (organisation_id, id, name) VALUES (?, ?, ?)
                ON CONFLICT (organisation_id, id) DO UPDATE SET name = excluded.name
                """,
                [.text(organisation.id), .text(team.id), .text(team.name)])
        }
        for investigation in organisation.investigations {
            try sql.execute(
                """
                INSERT INTO investigations (organisation_id, id, name, team_id, priority, status)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (organisation_id, id) DO UPDATE SET name = excluded.name,
                    team_id = excluded.team_id, priority = excluded.priority, status = excluded.status
                """,
                [.text(organisation.id), .text(investigation.id), .text(investigation.name), .text(investigation.teamID),
                 SQLValue(investigation.priority.rank), .text(investigation.status.rawValue)])
        }
        try sql.execute("DELETE FROM reservations WHERE organisation_id = ?", [.text(organisation.id)])
        for reservation in organisation.reservations { try insert(reservation, for: organisation.id, on: sql) }
        try BudgetQueries.replace(organisation.budgets ?? [], of: organisation.id, in: sql)
    }

    static func insert(_ reservation: Reservation, for organisationID: String, on sql: some SQLSession) throws {
        try sql.execute(
            "INSERT INTO reservations (organisation_id, id, credits, max_priority) VALUES (?, ?, ?, ?)",
            [.text(organisationID), .text(reservation.id), .integer(reservation.credits.microcredits),
             SQLValue(reservation.maxPriority.rank)])
    }
}

extension LedgerReader {
    public func organisation(_ id: String) throws -> Organisation? {
        try ConfigurationQueries.organisation(id, on: sql)
    }

    public func organisations() throws -> [Organisation] {
        try ConfigurationQueries.organisations(on: sql)
    }

    /// Current reservations (they may be changed live, so they are read from their own table).
    public func reservations(of organisationID: String) throws -> [Reservation] {
        try ConfigurationQueries.reservations(of: organisationID, on: sql)
    }
    public func issuer() throws -> Issuer? {
        try ConfigurationQueries.issuer(on: sql)
    }

    public func plan(_ id: String) throws -> Plan? {
        try ConfigurationQueries.plan(id, on: sql)
    }

    public func plans() throws -> [Plan] {
        try sql.strings("SELECT settings FROM plans ORDER BY id COLLATE BINARY")
            .map { try ConfigurationCodec.decode(Plan.self, $0) }
    }

    public func creditPackage(_ id: String) throws -> CreditPackage? {
        try sql.strings("SELECT settings FROM credit_packages WHERE id = ?", [.text(id)]).first
            .map { try ConfigurationCodec.decode(CreditPackage.self, $0) }
    }

    public func creditPackages() throws -> [CreditPackage] {
        try sql.strings("SELECT settings FROM credit_packages ORDER BY id COLLATE BINARY")
            .map { try ConfigurationCodec.decode(CreditPackage.self, $0) }
    }

    /// The rate for an operation and unit: the organisation's own entry, else the default.
    public func rate(organisationID: String, operation: String, unit: String) throws -> Credits? {
        // A point lookup inside the live route's group commit: cached statement, and it reads no
        // balances, so it leaves the transaction's deferred balance changes deferred.
        try sqlReadingNoBalances.first(
            """
            SELECT credits_per_unit FROM rate_cards
            WHERE organisation_id IN (?, '') AND operation = ? AND unit = ?
            ORDER BY organisation_id COLLATE BINARY DESC LIMIT 1
            """,
            bind: { $0.add(organisationID); $0.add(operation); $0.add(unit) },
            read: { Credits(microcredits: $0.int64(0)) })
    }

    /// The configured operations, sorted; nil when none are configured (any operation is accepted).
    public func operations() throws -> [String]? {
        let operations = try sql.strings("SELECT id FROM operations ORDER BY id COLLATE BINARY")
        return operations.isEmpty ? nil : operations
    }

    /// Whether cost events may name `operation`: it is configured, or no operations are.
    public func acceptsOperation(_ operation: String) throws -> Bool {
        // A point lookup inside the live route's group commit: cached statement, and it reads no
        // balances, so it leaves the transaction's deferred balance changes deferred.
        try sqlReadingNoBalances.first(
            "SELECT 1 WHERE EXISTS (SELECT 1 FROM operations WHERE id = ?) OR NOT EXISTS (SELECT 1 FROM operations)",
            bind: { $0.add(operation) }, read: { _ in true }) ?? false
    }

    public func rateCards() throws -> [RateCardEntry] {
        try sql.records(
            """
            SELECT organisation_id, operation, unit, credits_per_unit FROM rate_cards
            ORDER BY organisation_id COLLATE BINARY, operation COLLATE BINARY, unit COLLATE BINARY
            """, []
        ).map { row in
            let organisation = row.text(0)
            return RateCardEntry(
                organisationID: organisation.isEmpty ? nil : organisation, operation: row.text(1),
                unit: row.text(2), creditsPerUnit: Credits(microcredits: row.int64(3)))
        }
    }

    public func configurationDigest() throws -> String? {
        try sql.strings("SELECT value FROM meta WHERE key = 'configuration_digest'").first
    }
}

/// The configuration as the ledger holds it, read in portable SQL (either store).
enum ConfigurationQueries {
    static func issuer(on sql: some SQLSession) throws -> Issuer? {
        try sql.strings("SELECT settings FROM issuer ORDER BY id COLLATE BINARY LIMIT 1").first
            .map { try ConfigurationCodec.decode(Issuer.self, $0) }
    }

    static func plan(_ id: String, on sql: some SQLSession) throws -> Plan? {
        try sql.strings("SELECT settings FROM plans WHERE id = ?", [.text(id)]).first
            .map { try ConfigurationCodec.decode(Plan.self, $0) }
    }

    /// Every organisation, by id.
    static func organisations(on sql: some SQLSession) throws -> [Organisation] {
        try sql.strings("SELECT id FROM organisations ORDER BY id COLLATE BINARY").compactMap { try organisation($0, on: sql) }
    }

    static func organisation(_ id: String, on sql: some SQLSession) throws -> Organisation? {
        guard let json = try sql.strings("SELECT settings FROM organisations WHERE id = ?", [.text(id)]).first
        else { return nil }
        var organisation = try ConfigurationCodec.decode(Organisation.self, json)
        organisation.reservations = try reservations(of: id, on: sql)
        let budgets = try BudgetQueries.budgets(of: id, in: sql)
        organisation.budgets = budgets.isEmpty ? nil : budgets
        return organisation
    }

    /// Current reservations, by id (they may be changed live, so they are read from their own table).
    static func reservations(of organisationID: String, on sql: some SQLSession) throws -> [Reservation] {
        try sql.records(
            "SELECT id, credits, max_priority FROM reservations WHERE organisation_id = ? ORDER BY id COLLATE BINARY",
            [.text(organisationID)]
        ).map { row in
            Reservation(
                id: row.text(0), credits: Credits(microcredits: row.int64(1)),
                maxPriority: Priority(rank: Int(row.int64(2))) ?? .p1)
        }
    }
}

/// Canonical JSON for configuration values: sorted keys, so equal values give equal bytes.
enum ConfigurationCodec {
    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(json.utf8))
    }

    static func digest(_ configuration: Configuration) throws -> String {
        var hasher = SHA256()
        hasher.update(data: Data(try json(configuration.issuer).utf8))
        for organisation in configuration.organisations { hasher.update(data: Data(try json(organisation).utf8)) }
        for plan in configuration.plans { hasher.update(data: Data(try json(plan).utf8)) }
        for package in configuration.packages { hasher.update(data: Data(try json(package).utf8)) }
        for rate in configuration.rateCards { hasher.update(data: Data(try json(rate).utf8)) }
        // Only when configured, so a configuration without operations.yaml keeps its digest.
        if let operations = configuration.operations { hasher.update(data: Data(try json(operations).utf8)) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
