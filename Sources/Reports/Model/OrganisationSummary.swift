import Ledger

/// One organisation's movement over the period.
///
/// Sign convention: allocations, top-ups, consumption and expiries are magnitudes (never
/// negative); reversals and adjustments are signed net amounts (positive when they added to the
/// balance). Tie-out (Invariant 6): closing = opening + allocations + top-ups - consumption -
/// expiries + reversals + adjustments, in credits and in money.
public struct OrganisationSummary: ReportRow, Hashable {
    public var organisationID: String
    public var organisationName: String
    public var opening: CreditsAndMoney
    public var allocations: CreditsAndMoney
    public var topUps: CreditsAndMoney
    public var consumption: CreditsAndMoney
    public var expiries: CreditsAndMoney
    public var reversals: CreditsAndMoney
    public var adjustments: CreditsAndMoney
    public var closing: CreditsAndMoney

    public init(
        organisationID: String, organisationName: String, opening: CreditsAndMoney,
        allocations: CreditsAndMoney, topUps: CreditsAndMoney, consumption: CreditsAndMoney,
        expiries: CreditsAndMoney, reversals: CreditsAndMoney, adjustments: CreditsAndMoney,
        closing: CreditsAndMoney
    ) {
        self.organisationID = organisationID
        self.organisationName = organisationName
        self.opening = opening
        self.allocations = allocations
        self.topUps = topUps
        self.consumption = consumption
        self.expiries = expiries
        self.reversals = reversals
        self.adjustments = adjustments
        self.closing = closing
    }

    static let figures = [
        "Opening", "Allocations", "Top-ups", "Consumption", "Expiries", "Reversals", "Adjustments", "Closing",
    ]

    public static let columns: [ReportColumn] =
        [ReportColumn("Organisation ID", .text, total: .label("Total")),
         ReportColumn("Organisation", .text, width: 28)]
        + figures.flatMap { figure in
            [ReportColumn("\(figure) credits", .credits, total: .sum),
             ReportColumn("\(figure) money", .money, total: .sum)]
        }

    public var cells: [ReportCell] {
        [.text(organisationID), .text(organisationName)]
            + [opening, allocations, topUps, consumption, expiries, reversals, adjustments, closing].flatMap(\.cells)
    }

    /// Whether the tie-out identity holds in credits and in money (false also on overflow).
    public var tiesOut: Bool {
        func expected(_ value: KeyPath<CreditsAndMoney, Int64>) -> Int64? {
            try? Checked.sum([opening[keyPath: value], allocations[keyPath: value], topUps[keyPath: value],
                              -consumption[keyPath: value], -expiries[keyPath: value], reversals[keyPath: value],
                              adjustments[keyPath: value]])
        }
        return expected(\.credits.microcredits) == closing.credits.microcredits
            && expected(\.money.minorUnits) == closing.money.minorUnits
    }
}
