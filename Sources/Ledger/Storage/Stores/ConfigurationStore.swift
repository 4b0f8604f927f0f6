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
    /// Writes the configuration, replacing what was loaded before. Organisations, teams and
    /// investigations are upserted and never deleted (the ledger references them); prices,
    /// reservations and rate cards are replaced. Loading the same configuration twice changes nothing.
    public func load(_ configuration: Configuration) throws -> ConfigurationChange {
        let digest = try ConfigurationCodec.digest(configuration)
        let previous = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'configuration_digest'")
        let change = ConfigurationChange(
            organisations: configuration.organisations.count,
            teams: configuration.organisations.reduce(0) { $0 + $1.teams.count },
            investigations: configuration.organisations.reduce(0) { $0 + $1.investigations.count },
            plans: configuration.plans.count, packages: configuration.packages.count,
            rateCardEntries: configuration.rateCards.count, digest: digest, changed: previous != digest)
        guard change.changed else { return change }

        try db.execute(
            sql: "INSERT INTO issuer (id, settings) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET settings = excluded.settings",
            arguments: [configuration.issuer.id, try ConfigurationCodec.json(configuration.issuer)])
        for plan in configuration.plans {
            try db.execute(
                sql: """
                    INSERT INTO plans (id, period, credits_per_period, settings) VALUES (?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET period = excluded.period,
                        credits_per_period = excluded.credits_per_period, settings = excluded.settings
                    """,
                arguments: [plan.id, plan.period.rawValue, plan.creditsPerPeriod.microcredits,
                            try ConfigurationCodec.json(plan)])
        }
        for package in configuration.packages {
            try db.execute(
                sql: """
                    INSERT INTO credit_packages (id, credits, settings) VALUES (?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET credits = excluded.credits, settings = excluded.settings
                    """,
                arguments: [package.id, package.credits.microcredits, try ConfigurationCodec.json(package)])
        }
        // Reservations and thresholds may have been changed live; what this load replaces is audited.
        let attribution = ConfigurationChangeAttribution(actor: "config:\(digest.prefix(12))", idempotencyKey: nil)
        for organisation in configuration.organisations {
            let before = try reader.organisation(organisation.id)
            try upsert(organisation)
            if let before { try recordConfiguredChanges(before: before, after: organisation, attribution: attribution) }
        }
        try db.execute(sql: "DELETE FROM operations")
        for operation in configuration.operations ?? [] {
            try db.execute(sql: "INSERT INTO operations (id) VALUES (?)", arguments: [operation])
        }
        try db.execute(sql: "DELETE FROM rate_cards")
        for rate in configuration.rateCards {
            try db.execute(
                sql: "INSERT INTO rate_cards (organisation_id, operation, unit, credits_per_unit) VALUES (?, ?, ?, ?)",
                arguments: [rate.organisationID ?? "", rate.operation, rate.unit, rate.creditsPerUnit.microcredits])
        }
        try db.execute(
            sql: "INSERT INTO meta (key, value) VALUES ('configuration_digest', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            arguments: [digest])
        return change
    }

    private func upsert(_ organisation: Organisation) throws {
        postingState.forget(organisation.id)
        try db.execute(
            sql: """
                INSERT INTO organisations (id, name, currency, time_zone, plan_id, overdraft_limit, settings)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET name = excluded.name, currency = excluded.currency,
                    time_zone = excluded.time_zone, plan_id = excluded.plan_id,
                    overdraft_limit = excluded.overdraft_limit, settings = excluded.settings
                """,
            arguments: [organisation.id, organisation.name, organisation.currency.code, organisation.timeZone,
                        organisation.planID, organisation.overdraftLimit.microcredits,
                        try ConfigurationCodec.json(organisation)])
        let existingCurrency = try String.fetchOne(
            db, sql: "SELECT currency FROM transfers WHERE organisation_id = ? LIMIT 1", arguments: [organisation.id])
        if let existingCurrency, existingCurrency != organisation.currency.code {
            throw ConfigurationError(
                file: "organisations.yaml", key: organisation.id,
                problem: "currency changed from \(existingCurrency) to \(organisation.currency.code) after transfers were posted")
        }
        try db.execute(
            sql: "INSERT INTO accounts (id, organisation_id, kind) VALUES (?, ?, 'available') ON CONFLICT(id) DO NOTHING",
            arguments: [AccountID.available(organisationID: organisation.id).rawValue, organisation.id])
        for team in organisation.teams {
            try db.execute(
                sql: """
                    INSERT INTO teams (organisation_id, id, name) VALUES (?, ?, ?)
                    ON CONFLICT(organisation_id, id) DO UPDATE SET name = excluded.name
                    """,
                arguments: [organisation.id, team.id, team.name])
        }
        for investigation in organisation.investigations {
            try db.execute(
                sql: """
                    INSERT INTO investigations (organisation_id, id, name, team_id, priority, status)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(organisation_id, id) DO UPDATE SET name = excluded.name,
                        team_id = excluded.team_id, priority = excluded.priority, status = excluded.status
                    """,
                arguments: [organisation.id, investigation.id, investigation.name, investigation.teamID,
                            investigation.priority.rank, investigation.status.rawValue])
        }
        try db.execute(sql: "DELETE FROM reservations WHERE organisation_id = ?", arguments: [organisation.id])
        for reservation in organisation.reservations { try insert(reservation, for: organisation.id) }
        try BudgetQueries.replace(organisation.budgets ?? [], of: organisation.id, in: db)
    }

    func insert(_ reservation: Reservation, for organisationID: String) throws {
        try db.execute(
            sql: "INSERT INTO reservations (organisation_id, id, credits, max_priority) VALUES (?, ?, ?, ?)",
            arguments: [organisationID, reservation.id, reservation.credits.microcredits, reservation.maxPriority.rank])
    }
}

extension LedgerReader {
    public func organisation(_ id: String) throws -> Organisation? {
        guard let json = try String.fetchOne(db, sql: "SELECT settings FROM organisations WHERE id = ?", arguments: [id])
        else { return nil }
        var organisation = try ConfigurationCodec.decode(Organisation.self, json)
        organisation.reservations = try reservations(of: id)
        let budgets = try BudgetQueries.budgets(of: id, in: db)
        organisation.budgets = budgets.isEmpty ? nil : budgets
        return organisation
    }

    public func organisations() throws -> [Organisation] {
        try String.fetchAll(db, sql: "SELECT id FROM organisations ORDER BY id").compactMap { try organisation($0) }
    }

    /// Current reservations (they may be changed live, so they are read from their own table).
    public func reservations(of organisationID: String) throws -> [Reservation] {
        try Row.fetchAll(
            db, cached: "SELECT id, credits, max_priority FROM reservations WHERE organisation_id = ? ORDER BY id",
            arguments: [organisationID]
        ).map { row in
            Reservation(
                id: row["id"], credits: Credits(microcredits: row["credits"]),
                maxPriority: Priority(rank: row["max_priority"]) ?? .p1)
        }
    }

    public func issuer() throws -> Issuer? {
        try String.fetchOne(db, sql: "SELECT settings FROM issuer ORDER BY id LIMIT 1")
            .map { try ConfigurationCodec.decode(Issuer.self, $0) }
    }

    public func plan(_ id: String) throws -> Plan? {
        try String.fetchOne(db, sql: "SELECT settings FROM plans WHERE id = ?", arguments: [id])
            .map { try ConfigurationCodec.decode(Plan.self, $0) }
    }

    public func plans() throws -> [Plan] {
        try String.fetchAll(db, sql: "SELECT settings FROM plans ORDER BY id")
            .map { try ConfigurationCodec.decode(Plan.self, $0) }
    }

    public func creditPackage(_ id: String) throws -> CreditPackage? {
        try String.fetchOne(db, sql: "SELECT settings FROM credit_packages WHERE id = ?", arguments: [id])
            .map { try ConfigurationCodec.decode(CreditPackage.self, $0) }
    }

    public func creditPackages() throws -> [CreditPackage] {
        try String.fetchAll(db, sql: "SELECT settings FROM credit_packages ORDER BY id")
            .map { try ConfigurationCodec.decode(CreditPackage.self, $0) }
    }

    /// The rate for an operation and unit: the organisation's own entry, else the default.
    public func rate(organisationID: String, operation: String, unit: String) throws -> Credits? {
        // A point lookup inside the live route's group commit: cached statement, and it reads no
        // balances, so it leaves the transaction's deferred balance changes deferred.
        try Int64.fetchOne(
            dbReadingNoBalances,
            cached: """
                SELECT credits_per_unit FROM rate_cards
                WHERE organisation_id IN (?, '') AND operation = ? AND unit = ?
                ORDER BY organisation_id DESC LIMIT 1
                """,
            arguments: [organisationID, operation, unit]
        ).map { Credits(microcredits: $0) }
    }

    /// The configured operations, sorted; nil when none are configured (any operation is accepted).
    public func operations() throws -> [String]? {
        let operations = try String.fetchAll(db, sql: "SELECT id FROM operations ORDER BY id")
        return operations.isEmpty ? nil : operations
    }

    /// Whether cost events may name `operation`: it is configured, or no operations are.
    public func acceptsOperation(_ operation: String) throws -> Bool {
        // A point lookup inside the live route's group commit: cached statement, and it reads no
        // balances, so it leaves the transaction's deferred balance changes deferred.
        try Bool.fetchOne(
            dbReadingNoBalances,
            cached: "SELECT EXISTS (SELECT 1 FROM operations WHERE id = ?) OR NOT EXISTS (SELECT 1 FROM operations)",
            arguments: [operation]) ?? false
    }

    public func rateCards() throws -> [RateCardEntry] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM rate_cards ORDER BY organisation_id, operation, unit"
        ).map { row in
            let organisation: String = row["organisation_id"]
            return RateCardEntry(
                organisationID: organisation.isEmpty ? nil : organisation, operation: row["operation"],
                unit: row["unit"], creditsPerUnit: Credits(microcredits: row["credits_per_unit"]))
        }
    }

    public func configurationDigest() throws -> String? {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'configuration_digest'")
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
