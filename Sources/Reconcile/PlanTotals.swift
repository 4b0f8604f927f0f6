import Ledger

/// What a walk over a plan's candidates posted, per organisation and kind: the figures stored with
/// the plan for finance to review, and what `apply` compares to say whose figures moved.
struct PlanTotals: Equatable {
    private struct Key: Hashable {
        let organisationID: String
        let kind: TransferKind
    }

    private var figures: [Key: (transfers: Int, credits: Credits)] = [:]

    static func == (lhs: PlanTotals, rhs: PlanTotals) -> Bool { lhs.rows == rhs.rows }

    init() {}

    init(_ rows: [PlanTotal]) {
        for row in rows {
            figures[Key(organisationID: row.organisationID, kind: row.kind)] = (row.transfers, row.credits)
        }
    }

    /// Counts `item`'s posting. False when the organisation's total for the kind passes Int64: it is
    /// then kept at the largest value (the caller reports a `planTotalOverflow` finding), so one edge
    /// case never fails the stage for everyone.
    mutating func add(_ item: PlanItem, posted amount: Credits) -> Bool {
        let key = Key(organisationID: item.organisationID, kind: item.kind.transferKind)
        let figure = figures[key] ?? (0, .zero)
        let sum = try? figure.credits.adding(amount)
        figures[key] = (figure.transfers + 1, sum ?? Credits(microcredits: .max))
        return sum != nil
    }

    /// In the stored order: organisation, then kind.
    var rows: [PlanTotal] {
        figures.map { PlanTotal(organisationID: $0.key.organisationID, kind: $0.key.kind, transfers: $0.value.transfers,
                                credits: $0.value.credits) }.sorted()
    }

    var count: Int { figures.values.reduce(0) { $0 + $1.transfers } }

    var transfersByKind: [String: Int] {
        figures.reduce(into: [:]) { $0[$1.key.kind.rawValue, default: 0] += $1.value.transfers }
    }

    /// Credits per kind over every organisation, capped at the largest value (a total that large is
    /// already a `planTotalOverflow` finding, or an organisation's totals are each inside Int64).
    func creditsByKind() -> [String: Credits] {
        var credits: [String: Credits] = [:]
        for (key, figure) in figures {
            let kind = key.kind.rawValue
            credits[kind] = (try? (credits[kind] ?? .zero).adding(figure.credits)) ?? Credits(microcredits: .max)
        }
        return credits
    }

    /// Organisations whose figures differ between the two.
    func organisationsDiffering(from other: PlanTotals) -> Set<String> {
        Set(Set(rows).symmetricDifference(other.rows).map(\.organisationID))
    }
}
