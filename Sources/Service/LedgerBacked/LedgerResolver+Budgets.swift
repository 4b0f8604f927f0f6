import Ledger

extension LedgerResolver {
    /// Admin: sets, replaces or (with limit 0) removes one scope's budget, audited like other live
    /// configuration (`LedgerTransaction.setBudget` checks it as `organisations.yaml` is checked);
    /// answers the organisation as it now is, its budgets included.
    public func setBudget(context: GraphQLRequestContext, arguments: MutationArguments<SetBudgetInput>)
        async throws -> OrganisationPayload
    {
        let input = arguments.input
        try Self.requireAdmin(context)
        let (changed, userErrors) = try await Self.attempt { () async throws -> OrganisationView in
            let organisationID = try authorised(context, input.organisationId)
            let limit = try Self.nonNegative(input.limit, field: .limit)
            let scope = SpendScope(input.scope.ledger, id: input.scopeId.value)
            let attribution = try Self.attribution(context, idempotencyKey: input.idempotencyKey)
            try await ledger.write(as: context.actor) { tx in
                // The plan's month is read in the write that sets the budget, so a plan changed in
                // between cannot leave a financial year starting in a month no longer the plan's.
                let budget = try limit == .zero ? nil : Budget(
                    scope: scope.kind, scopeID: scope.id, limit: limit,
                    period: Self.budgetPeriod(input) {
                        try tx.reader.organisation(organisationID)?.planID.flatMap { try tx.reader.plan($0) }?
                            .financialYearStartMonth
                    },
                    mode: (input.mode ?? .HARD).ledger, alertPercents: input.alertPercents ?? Budget.alertPercentsDefault)
                _ = try tx.setBudget(organisationID: organisationID, scope: scope, budget: budget, by: attribution)
            }
            return try await organisation(context: context, arguments: .init(organisationId: input.organisationId))
        }
        return OrganisationPayload(organisation: changed, userErrors: userErrors)
    }

    /// The input's period. A financial year without its own start month starts in the organisation's
    /// plan's (`planMonth`, read only then), as `organisations.yaml` has it.
    private static func budgetPeriod(_ input: SetBudgetInput, planMonth: () throws -> Int?) throws -> BudgetPeriod {
        switch input.period ?? .MONTH {
        case .MONTH:
            return .month
        case .FINANCIAL_YEAR:
            let own = input.financialYearStartMonth
            let plan = own == nil ? try planMonth() : nil
            return .financialYear(startMonth: BudgetPeriod.financialYearStartMonth(own: own, plan: plan))
        case .RANGE:
            guard let from = input.periodFrom.flatMap(LocalDate.parse) else {
                throw UserError(UserErrorCode(.budgetInvalid), field: .periodFrom,
                                "A RANGE budget needs periodFrom, its first day (YYYY-MM-DD).")
            }
            guard let to = input.periodTo.flatMap(LocalDate.parse) else {
                throw UserError(UserErrorCode(.budgetInvalid), field: .periodTo,
                                "A RANGE budget needs periodTo, its last day (YYYY-MM-DD).")
            }
            return .range(start: from, end: to)
        }
    }
}

/// The input of `setBudget`.
public struct SetBudgetInput: Codable, Sendable {
    public let organisationId: Identifier
    public let scope: BudgetScopeKind
    /// The organisation's own id, a team's or an investigation's.
    public let scopeId: Identifier
    /// Credits per period; "0" removes the budget.
    public let limit: CreditAmount
    /// Default HARD.
    public let mode: BudgetModeKind?
    /// Default MONTH.
    public let period: BudgetPeriodKind?
    public let financialYearStartMonth: Int?
    public let periodFrom: String?
    public let periodTo: String?
    public let alertPercents: [Int]?
    public let idempotencyKey: String
}
