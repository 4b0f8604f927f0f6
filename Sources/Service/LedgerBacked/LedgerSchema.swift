import Graphiti
import Ledger

/// The ledger-backed GraphQL schema: queries `health`, `serverTime`, `creditBalance`, `transactions`,
/// `creditPackages`, `organisation` (with its `configurationChanges`), `usage`; mutations
/// `purchaseCreditPackage` and, for platform-admin keys, `allocateCredits`, `topUpCredits`, `adjustCredits`, `setReservation`,
/// `setLowBalanceThresholds`, `setBudget`.
public enum LedgerSchema {
    public static func make() throws -> Schema<LedgerResolver, GraphQLRequestContext> {
        try Schema<LedgerResolver, GraphQLRequestContext> {
            DateTime.scalar(specifiedBy: DateTime.specification)
                .description("An instant as an RFC 3339 date-time string. Answers are UTC with milliseconds (`2026-11-23T10:00:00.000Z`); inputs need an offset (`Z` or `+01:00`), carry at most milliseconds and fall in the years 2000 to 2199.")
            CreditAmount.scalar()
                .description("An exact decimal number of credits as a JSON string (`\"12\"`, `\"-0.5\"`), at most 6 decimal places; never a float. An input is at most 1000000000 credits either way, the most one ledger transfer moves; numbers with a fraction are refused, integers accepted.")
            MinorUnits.scalar()
                .description("A whole number of a currency's minor units (pence, cents; yen themselves) as a JSON string of digits with an optional minus, within signed 64 bits (sums pass GraphQL Int's 32 bits and JavaScript's 2^53). Inputs may also be JSON integers.")
            Identifier.scalar()
                .description("A unique identifier, serialised as a string; an integer input is accepted as its decimal text.")
            Type(MoneyView.self, as: "Money") {
                Field("minorUnits", at: \.minorUnits).description("The amount in minor units of `currency`.")
                Field("currency", at: \.currency).description("ISO 4217 currency code.")
            }.description("An amount of money: integer minor units and the currency. GBP 12.34 is `{minorUnits: \"1234\", currency: \"GBP\"}`.")
            Type(CreditBalanceView.self, as: "CreditBalance") {
                Field("organisationId", at: \.organisationId).description("The organisation's id.")
                Field("available", at: \.available)
                    .description("Credits granted and not yet used, expired or reversed.")
                Field("reserved", at: \.reserved)
                    .description("Credits kept back by reservations for high-priority investigations.")
                Field("held", at: \.held)
                    .description("Credits promised to open holds (jobs not yet settled), which no other work may spend.")
                Field("spendable", at: \.spendable)
                    .description("Credits an investigation without priority may spend now: available less reserved less held, never below zero.")
                Field("currency", at: \.currency).description("The organisation's currency, ISO 4217.")
                Field("asOf", at: \.asOf).description("The instant of the balance.")
                Field("runwayDays", at: CreditBalanceView.runwayDays)
                    .description("Whole days the spendable credits last at the trailing 30-day burn rate, at most 36,500; null when nothing was spent. Computed only when selected.")
            }.description("An organisation's balance at one instant.")
            Enum(TransactionKind.self) {
                Value(.ALLOCATION).description("Credits granted by the plan.")
                Value(.TOP_UP).description("Credits bought or granted on top.")
                Value(.DEDUCTION).description("Credits used.")
                Value(.EXPIRY).description("Credits that expired unused.")
                Value(.REVERSAL).description("A transfer taken back.")
                Value(.ADJUSTMENT).description("A correction by a platform admin.")
            }.description("The kind of a ledger transfer.")
            Type(TransactionView.self, as: "Transaction") {
                Field("id", at: \.id).description("The transfer's id in the ledger.")
                Field("kind", at: \.kind).description("What the transfer is.")
                Field("credits", at: \.credits).description("Positive for inflows, negative for outflows.")
                Field("money", at: \.money).description("The money value of the transfer.")
                Field("effectiveAt", at: \.effectiveAt).description("When the transfer took effect.")
                Field("costEventId", at: \.costEventId)
                    .description("The usage event a deduction charges, if any.")
                Field("revolutOrderId", at: \.revolutOrderId)
                    .description("The Revolut order a top-up was paid with, if any.")
                Field("team", at: \.team).description("The team a deduction is charged to, if any.")
                Field("investigation", at: \.investigation)
                    .description("The investigation a deduction is charged to, if any.")
                Field("operation", at: \.operation).description("The operation a deduction charges, if any.")
                Field("memo", at: \.memo).description("Why an administrator posted the transfer, if one did.")
                Field("actor", at: \.actor).description(
                    "Who made the transfer: `key:<API key id>`, `operator:<name>`, `pipeline:<stage>` or "
                        + "`pipeline:apply:plan-<id>`, `webhook:revolut`, or `unknown (before audit)` for "
                        + "transfers posted before actors were recorded.")
                Field("balanceBefore", at: \.balanceBefore)
                    .description("The organisation's available balance right before this transfer, in posting order.")
                Field("balanceAfter", at: \.balanceAfter)
                    .description("The organisation's available balance right after this transfer, in posting order.")
            }.description("One ledger transfer seen from the organisation.")
            Type(TransactionEdge.self) {
                Field("cursor", at: \.cursor)
                    .description("Opaque: pass it as `after` to continue after this transaction.")
                Field("node", at: \.node).description("The transaction.")
            }.description("One transaction of a page, with the cursor to continue after it.")
            Type(PageInfo.self) {
                Field("hasNextPage", at: \.hasNextPage).description("Whether more items follow this page.")
                Field("hasPreviousPage", at: \.hasPreviousPage)
                    .description("Whether items precede this page: true when it was asked for `after` a cursor.")
                Field("startCursor", at: \.startCursor)
                    .description("The cursor of the page's first item; null for an empty page.")
                Field("endCursor", at: \.endCursor)
                    .description("The cursor of the page's last item (pass it as `after` for the next page); null for an empty page.")
            }.description("Relay page information. Pages run forwards (`first`, `after`); cursors are opaque.")
            Type(TransactionConnection.self) {
                Field("edges", at: \.edges).description("The page's transactions with their cursors.")
                Field("pageInfo", at: \.pageInfo).description("Where the page stands.")
            }.description("A page of an organisation's transactions, oldest first.")
            Type(CreditPackageView.self, as: "CreditPackage") {
                Field("id", at: \.id).description("The package's id, as `purchaseCreditPackage` takes it.")
                Field("name", at: \.name).description("The package's display name.")
                Field("credits", at: \.credits).description("Credits the package grants.")
                Field("price", at: \.price)
                    .description("The price in the organisation's currency; null when the package is not sold in it.")
            }.description("A credit package on sale, priced in the organisation's currency.")
            Type(PurchaseView.self, as: "Purchase") {
                Field("reference", at: \.reference)
                    .description("The purchase's own reference (the Revolut order's merchant reference).")
                Field("organisationId", at: \.organisationId).description("The buying organisation.")
                Field("packageId", at: \.packageId).description("The package bought.")
                Field("credits", at: \.credits).description("Credits granted once the payment completes.")
                Field("amount", at: \.amount).description("The amount charged.")
                Field("orderId", at: \.orderId).description("The Revolut order's id, once created.")
                Field("checkoutUrl", at: \.checkoutUrl)
                    .description("Where the buyer pays, once the order is created.")
            }.description("A purchase of a credit package and its Revolut order.")
            Enum(UsageGrouping.self) {
                Value(.TEAM).description("By team.")
                Value(.INVESTIGATION).description("By investigation.")
                Value(.OPERATION).description("By operation.")
                Value(.DAY).description("By day in the organisation's time zone.")
            }.description("How `usage` groups deductions.")
            Type(ReservationView.self, as: "Reservation") {
                Field("id", at: \.id).description("The reservation's id.")
                Field("credits", at: \.credits).description("Credits kept back.")
                Field("maxPriority", at: \.maxPriority)
                    .description("Investigations of priority 1 (P1) up to this rank may spend the reserved credits.")
            }.description("Credits kept back for investigations of high priority.")
            Enum(BudgetScopeKind.self) {
                Value(.ORGANISATION).description("The whole organisation.")
                Value(.TEAM).description("One team: its investigations' usage counts against it.")
                Value(.INVESTIGATION).description("One investigation.")
            }.description("What a budget limits. Usage counts against every budget on its path (investigation, its team, the organisation); the tightest decides.")
            Enum(BudgetModeKind.self) {
                Value(.HARD).description("Spending past the limit is refused: 402 `budget_exceeded` live, the finding `budgetExceeded` in the nightly plan.")
                Value(.SOFT).description("Spending past the limit is charged, flagged (`budgetSoftExceeded`) and alerted.")
            }.description("Whether a budget refuses or flags spending past it.")
            Enum(BudgetPeriodKind.self) {
                Value(.MONTH).description("Calendar months of the organisation's time zone.")
                Value(.FINANCIAL_YEAR).description("Financial years starting on the first of `financialYearStartMonth`.")
                Value(.RANGE).description("One fixed span of days, `periodFrom` to `periodTo`; outside it the budget limits nothing.")
            }.description("The calendar of a budget's periods; a period rolls over by the calendar, with no job.")
            Type(BudgetView.self, as: "Budget") {
                Field("scope", at: \.scope).description("What the budget limits.")
                Field("scopeId", at: \.scopeId).description("The organisation's, team's or investigation's id.")
                Field("limit", at: \.limit).description("Credits of usage allowed per period.")
                Field("mode", at: \.mode).description("Refuse (HARD) or flag (SOFT) spending past the limit.")
                Field("period", at: \.period).description("The calendar of its periods.")
                Field("financialYearStartMonth", at: \.financialYearStartMonth)
                    .description("For FINANCIAL_YEAR: the month (1 to 12) a year starts in; null otherwise.")
                Field("periodFrom", at: \.periodFrom).description("The first day (YYYY-MM-DD, local) of the period now, or of the fixed range.")
                Field("periodTo", at: \.periodTo).description("The last day (YYYY-MM-DD, local) of that period, inclusive.")
                Field("resetsAt", at: \.resetsAt).description("When that period ends and the next begins (for a RANGE: when the budget stops limiting).")
                Field("current", at: \.current).description("Whether now lies in the period (false for a RANGE not begun or already over).")
                Field("used", at: \.used).description("Credits charged to the scope in the period so far.")
                Field("held", at: \.held).description("Credits open holds on the scope promise now.")
                Field("left", at: \.left).description("The limit less used and held; negative once a SOFT budget was passed.")
                Field("percentOfPeriodElapsed", at: \.percentOfPeriodElapsed)
                    .description("How much of the period's time has gone by, 0 to 100, to two places (rounded down).")
                Field("alertPercents", at: \.alertPercents)
                    .description("Percentages of the limit at which alerts fire, once per crossing.")
            }.description("A budget and how it stands now: the same figures the gate judges a spend by, and the By team and By investigation report columns show (without holds).")
            Enum(ConfigurationSubject.self) {
                Value(.RESERVATION).description("A reservation was set or removed.")
                Value(.THRESHOLDS).description("The low-balance thresholds were replaced.")
                Value(.BUDGET).description("A budget was set, changed or removed (`reservationId` names its key, `team:alpha`).")
            }.description("What a configuration change changed.")
            Type(ConfigurationValueView.self, as: "ConfigurationValue") {
                Field("credits", at: \.credits).description("A reservation's credits.")
                Field("maxPriority", at: \.maxPriority)
                    .description("A reservation's highest priority rank that may spend it.")
                Field("lowBalanceCredits", at: \.lowBalanceCredits)
                    .description("Alert when spendable credits fall below this.")
                Field("lowBalancePercent", at: \.lowBalancePercent)
                    .description("Alert when spendable credits fall below this percentage of the last grant.")
                Field("runwayDays", at: \.runwayDays)
                    .description("Alert when the runway falls below this many days.")
            }.description("A reservation's terms (`credits`, `maxPriority`) or the low-balance thresholds (`lowBalanceCredits`, `lowBalancePercent`, `runwayDays`); the fields of the other subject are null.")
            Type(ConfigurationChangeView.self, as: "ConfigurationChange") {
                Field("id", at: \.id).description("The change's id in the audit trail.")
                Field("changedAt", at: \.changedAt).description("When the change was made.")
                Field("actor", at: \.actor)
                    .description("Who made it: `key:<key id>` (the first 16 hex digits of the API key's SHA-256) or `config:<digest prefix>` when `credits init` replaced the value.")
                Field("subject", at: \.subject).description("What was changed.")
                Field("reservationId", at: \.reservationId)
                    .description("The reservation changed; null for thresholds.")
                Field("oldValue", at: \.oldValue)
                    .description("The value before; null when the reservation did not exist.")
                Field("newValue", at: \.newValue)
                    .description("The value after; null when the reservation was removed.")
            }.description("One audited live change of an organisation's reservations or thresholds.")
            Type(ConfigurationChangeEdge.self) {
                Field("cursor", at: \.cursor)
                    .description("Opaque: pass it as `after` to continue with the changes older than this one.")
                Field("node", at: \.node).description("The change.")
            }.description("One configuration change of a page, with the cursor to continue after it.")
            Type(ConfigurationChangeConnection.self) {
                Field("edges", at: \.edges).description("The page's changes with their cursors.")
                Field("pageInfo", at: \.pageInfo).description("Where the page stands.")
            }.description("A page of an organisation's configuration changes, newest first.")
            Type(OrganisationView.self, as: "Organisation") {
                Field("id", at: \.id).description("The organisation's id.")
                Field("name", at: \.name).description("The organisation's display name.")
                Field("locale", at: \.locale).description("The locale of its reports and invoices (BCP 47).")
                Field("currency", at: \.currency).description("The currency it is billed in, ISO 4217.")
                Field("timeZone", at: \.timeZone).description("The IANA time zone its days are counted in.")
                Field("planId", at: \.planId).description("The plan it is on, if any.")
                Field("overdraftLimit", at: \.overdraftLimit)
                    .description("How far below zero its available credits may go.")
                Field("lowBalanceCredits", at: \.lowBalanceCredits)
                    .description("The low-balance alert threshold in credits, if set.")
                Field("lowBalancePercent", at: \.lowBalancePercent)
                    .description("The low-balance alert threshold as a percentage of the last grant, if set.")
                Field("runwayDays", at: \.runwayDays)
                    .description("The runway alert threshold in days, if set.")
                Field("reservations", at: \.reservations).description("Its reservations.")
                Field("budgets", at: \.budgets)
                    .description("Its budgets, by scope key, each with its period now, used, held and left.")
                Field("configurationChanges", at: OrganisationView.configurationChanges) {
                    Argument("first", at: \.first).description("Page size, 1 to 100 (default 20).")
                    Argument("after", at: \.after)
                        .description("The `endCursor` (or an edge's `cursor`) of the changes already seen: the page continues with older changes.")
                }.description("The audit trail of live changes to its reservations and thresholds, newest first, a page at a time.")
            }.description("An organisation's settings.")
            Type(UsageRow.self) {
                Field("key", at: \.key)
                    .description("The group: a team, investigation or operation (`(none)` when unset), or a day (YYYY-MM-DD in the organisation's time zone).")
                Field("credits", at: \.credits).description("Credits deducted in the group.")
                Field("money", at: \.money).description("The cost of those credits, from the grants they drew on.")
                Field("deductions", at: \.deductions).description("How many deductions the group holds.")
            }.description("One group of `usage`: the credits deducted and their money cost.")
            Enum(UserErrorCode.self) {
                return UserErrorCode.allCases.map { code in
                    Value(code).description(code.summary)
                }
            }.description("Why a mutation was refused: the ledger's posting and administrator posting refusal codes and the service's mutation refusals, each listed in docs/CODES.md.")
            Type(UserError.self) {
                Field("code", at: \.code).description("What was refused, for programs to branch on.")
                Field("field", at: \.field)
                    .description("The path to the input field at fault, from the mutation's arguments (`[\"input\", \"credits\"]`); null when no single field is.")
                Field("message", at: \.message).description("What was refused, for people.")
            }.description("An expected refusal of a mutation: the request succeeded, the change was not made. Failures a caller cannot correct (no access, a busy ledger) are GraphQL errors with `extensions.code` instead.")
            Input(PurchaseCreditPackageInput.self) {
                InputField("organisationId", at: \.organisationId).description("The buying organisation's id.")
                InputField("packageId", at: \.packageId).description("The `id` of a package from `creditPackages`.")
                InputField("idempotencyKey", at: \.idempotencyKey)
                    .description("1 to 100 characters of A-Z a-z 0-9 . _ - : chosen by the caller; the same key makes a retry safe.")
            }.description("What `purchaseCreditPackage` buys.")
            Input(CreditPostingInput.self) {
                InputField("organisationId", at: \.organisationId).description("The organisation's id.")
                InputField("credits", at: \.credits)
                    .description("Credits to grant, positive; for `adjustCredits` signed: negative draws down.")
                InputField("idempotencyKey", at: \.idempotencyKey).description("1 to 200 bytes chosen by the caller; a retry with the same key changes nothing, the key reused for a different request is refused (`idempotencyKeyReusedWithDifferentContent`).")
                InputField("memo", at: \.memo).description(
                    "Why the posting is made (required; `reasonRequired` without it): kept with the transfer for the audit trail.")
                InputField("priceMinorUnits", at: \.priceMinorUnits)
                    .description("The price paid (the grant's cost basis), in minor units of the organisation's currency.")
            }.description("What `allocateCredits`, `topUpCredits` and `adjustCredits` post.")
            Input(SetReservationInput.self) {
                InputField("organisationId", at: \.organisationId).description("The organisation's id.")
                InputField("reservationId", at: \.reservationId).description("The reservation's id, 1 to 100 characters.")
                InputField("credits", at: \.credits).description("Credits to keep back; 0 removes the reservation.")
                InputField("maxPriority", at: \.maxPriority)
                    .description("Investigations of priority 1 (P1) up to this rank (1 to 4) may spend the reserve.")
                InputField("idempotencyKey", at: \.idempotencyKey).description("1 to 200 bytes chosen by the caller; a retry with the same key changes nothing, the key reused for a different request is refused (`idempotencyKeyReusedWithDifferentContent`).")
            }.description("The reservation `setReservation` sets or removes.")
            Input(SetBudgetInput.self) {
                InputField("organisationId", at: \.organisationId).description("The organisation's id.")
                InputField("scope", at: \.scope).description("What the budget limits.")
                InputField("scopeId", at: \.scopeId).description("The organisation's own id, or a team's or investigation's.")
                InputField("limit", at: \.limit).description("Credits of usage per period; \"0\" removes the budget.")
                InputField("mode", at: \.mode).description("HARD (default) or SOFT.")
                InputField("period", at: \.period).description("MONTH (default), FINANCIAL_YEAR or RANGE.")
                InputField("financialYearStartMonth", at: \.financialYearStartMonth)
                    .description("For FINANCIAL_YEAR: 1 to 12; omitted, the plan's financial year, else January.")
                InputField("periodFrom", at: \.periodFrom).description("For RANGE: the first day, YYYY-MM-DD.")
                InputField("periodTo", at: \.periodTo).description("For RANGE: the last day, YYYY-MM-DD, inclusive.")
                InputField("alertPercents", at: \.alertPercents)
                    .description("Percentages of the limit to alert at, ascending, 1 to 1000; omitted: 80 and 100.")
                InputField("idempotencyKey", at: \.idempotencyKey)
                    .description("1 to 200 bytes; a retry with the same key changes nothing and records no second audit row.")
            }.description("The budget `setBudget` sets, replaces or removes.")
            Input(SetLowBalanceThresholdsInput.self) {
                InputField("organisationId", at: \.organisationId).description("The organisation's id.")
                InputField("lowBalanceCredits", at: \.lowBalanceCredits)
                    .description("Alert below this many spendable credits; null for none.")
                InputField("lowBalancePercent", at: \.lowBalancePercent)
                    .description("Alert below this percentage (0 to 100) of the last grant; null for none.")
                InputField("runwayDays", at: \.runwayDays)
                    .description("Alert when the runway falls below this many days (0 to 3650); null for none.")
                InputField("idempotencyKey", at: \.idempotencyKey).description("1 to 200 bytes chosen by the caller; a retry with the same key changes nothing, the key reused for a different request is refused (`idempotencyKeyReusedWithDifferentContent`).")
            }.description("The thresholds `setLowBalanceThresholds` puts in place of the current ones.")
            Type(PurchaseCreditPackagePayload.self) {
                Field("purchase", at: \.purchase).description("The purchase; null when refused.")
                Field("userErrors", at: \.userErrors).description("Why the purchase was refused; empty on success.")
            }.description("The answer of `purchaseCreditPackage`.")
            Type(GrantView.self, as: "Grant") {
                Field("id", at: \.id).description("The grant's id in the ledger.")
                Field("source", at: \.source).description("`allocation`, `top_up` or `adjustment`.")
                Field("credits", at: \.credits).description("Credits it granted.")
                Field("remaining", at: \.remaining).description("Credits left on it.")
                Field("expiresAt", at: \.expiresAt).description("When what is left expires; null: never.")
                Field("grantedAt", at: \.grantedAt).description("When it took effect.")
                Field("cost", at: \.cost).description("What was paid for all its credits: their cost basis.")
                Field("transactionId", at: \.transactionId).description("The transfer that created it.")
            }.description("Credits granted to an organisation, burnt down by its outflows (docs/LEDGER.md).")
            Type(HoldView.self, as: "Hold") {
                Field("id", at: \.id).description("The hold's id (`hold_id` of `POST /v1/holds`).")
                Field("team", at: \.team).description("The team the job is charged to.")
                Field("investigation", at: \.investigation).description("The investigation, if any.")
                Field("operation", at: \.operation).description("The operation the job runs.")
                Field("credits", at: \.credits).description("The estimate: credits the hold keeps from other work.")
                Field("createdAt", at: \.createdAt).description("When the hold was made.")
                Field("expiresAt", at: \.expiresAt).description("When it stops holding anything unless settled first.")
                Field("actor", at: \.actor).description("Who made it: `key:<API key id>`.")
            }.description("Credits promised to one job before it runs; they count against the spendable balance until the hold is settled, released or expires (docs/LEDGER.md).")
            Type(DrawView.self, as: "Draw") {
                Field("transactionId", at: \.transactionId).description("The outflow that drew.")
                Field("grantId", at: \.grantId).description("The grant drawn on; null: credits no grant covered (overdraft).")
                Field("credits", at: \.credits).description("Credits drawn (negative: an overdraft draw a later grant settled).")
                Field("cost", at: \.cost).description("Their cost at the grant's cost basis.")
            }.description("Credits one outflow took from one grant.")
            Input(VoidGrantInput.self) {
                InputField("grantId", at: \.grantId).description("The grant (`grants`).")
                InputField("idempotencyKey", at: \.idempotencyKey).description("1 to 200 bytes; a retry with the same key changes nothing.")
                InputField("reason", at: \.reason).description("Why (required), kept with the transfer.")
            }.description("What `voidGrant` needs.")
            Input(MoveGrantExpiryInput.self) {
                InputField("grantId", at: \.grantId).description("The grant (`grants`).")
                InputField("expiresAt", at: \.expiresAt).description("The new expiry, not before now; null: never expires.")
                InputField("idempotencyKey", at: \.idempotencyKey).description("1 to 200 bytes; a retry with the same key changes nothing.")
                InputField("reason", at: \.reason).description("Why (required), kept with the move.")
            }.description("What `moveGrantExpiry` needs.")
            Type(AuditMovementView.self, as: "AuditMovement") {
                Field("transactionId", at: \.transactionId).description("The transfer's id in the ledger.")
                Field("kind", at: \.kind).description("What the transfer is.")
                Field("credits", at: \.credits).description("Into the organisation positive, out of it negative.")
                Field("money", at: \.money).description("The transfer's money, signed like `credits`.")
                Field("effectiveAt", at: \.effectiveAt).description("When the transfer took effect (the statement's order).")
                Field("recordedAt", at: \.recordedAt).description("When the ledger recorded it.")
                Field("actor", at: \.actor).description(
                    "Who made it, as `Transaction.actor` says (`key:<id>`, `operator:<name>`, `pipeline:<stage>`, ...).")
                Field("reason", at: \.reason).description("Why: the memo an administrator gave; null if none.")
                Field("idempotencyKey", at: \.idempotencyKey).description("The transfer's idempotency key.")
                Field("reference", at: \.reference)
                    .description("What it refers to: the cost event, the Revolut order or the plan period; null if none.")
                Field("balanceBefore", at: \.balanceBefore)
                    .description("The organisation's balance right before it, in the statement's (effective) order.")
                Field("balanceAfter", at: \.balanceAfter)
                    .description("The organisation's balance right after it, in the statement's (effective) order.")
            }.description("One movement of an audit statement.")
            Type(AuditMovementEdge.self) {
                Field("cursor", at: \.cursor).description("Opaque: pass it as `after` to continue after this movement.")
                Field("node", at: \.node).description("The movement.")
            }.description("One movement of a page, with the cursor to continue after it.")
            Type(AuditMovementConnection.self) {
                Field("edges", at: \.edges).description("The page's movements with their cursors.")
                Field("pageInfo", at: \.pageInfo).description("Where the page stands.")
            }.description("A page of an audit statement's movements, in effective order.")
            Type(AuditStatementView.self, as: "AuditStatement") {
                Field("organisationId", at: \.organisationId).description("The organisation.")
                Field("from", at: \.from).description("The window's start (inclusive).")
                Field("to", at: \.to).description("The window's end (exclusive).")
                Field("opening", at: \.opening).description("The balance just before the window.")
                Field("closing", at: \.closing).description("The balance at the window's end.")
                Field("movements", at: \.movements).description("How many transfers took effect in the window.")
                Field("digest", at: \.digest)
                    .description("SHA-256 of the statement, as `credits ledger audit` prints it for the same window.")
                Field("signed", at: \.signed)
                    .description("Whether the service signed the digest (it has an audit signing key); false: unsigned.")
                Field("signature", at: \.signature).description(
                    "Ed25519 signature of the digest (128 hex digits) by the service's audit key, as `credits ledger "
                        + "audit` writes it with the same key; null when unsigned.")
                Field("signingPublicKey", at: \.signingPublicKey)
                    .description("The public key (64 hex digits) that made the signature; null when unsigned.")
                Field("entries", at: AuditStatementView.entries) {
                    Argument("first", at: \.first).description("Page size, 1 to 100 (default 20).")
                    Argument("after", at: \.after)
                        .description("The `endCursor` (or an edge's `cursor`) of the movements already seen.")
                }.description("The statement's movements, in effective order (then id), a page at a time, each with its actor, reason and balances.")
            }.description("An audit statement (docs/LEDGER.md, \"Audit statements\"): summary, signature and movements.")
            Type(GrantPayload.self) {
                Field("grant", at: \.grant).description("The grant as it now is; null when refused.")
                Field("userErrors", at: \.userErrors).description("Why the move was refused; empty on success.")
            }.description("The answer of `moveGrantExpiry`.")
            Type(CreditPostingPayload.self) {
                Field("transaction", at: \.transaction).description("The transfer posted (or found, for a retry); null when refused.")
                Field("userErrors", at: \.userErrors).description("Why the posting was refused; empty on success.")
            }.description("The answer of `allocateCredits`, `topUpCredits` and `adjustCredits`.")
            Type(OrganisationPayload.self) {
                Field("organisation", at: \.organisation).description("The organisation as it now is; null when refused.")
                Field("userErrors", at: \.userErrors).description("Why the change was refused; empty on success.")
            }.description("The answer of `setReservation`, `setLowBalanceThresholds` and `setBudget`.")
            Query {
                Field("health", at: LedgerResolver.health).description("Always `ok`: the API answered.")
                Field("serverTime", at: LedgerResolver.serverTime).description("The service clock.")
                Field("creditBalance", at: LedgerResolver.creditBalance) {
                    Argument("organisationId", at: \.organisationId).description("The organisation's id.")
                    Argument("asOf", at: \.asOf).description(
                        "The balance as it stood at this instant: every transfer effective at or before it, and "
                            + "the reservations configured then. Omitted: now.")
                }.description("An organisation's balance now, or at a past instant (`asOf`).")
                Field("transactions", at: LedgerResolver.transactions) {
                    Argument("organisationId", at: \.organisationId).description("The organisation's id.")
                    Argument("first", at: \.first).description("Page size, 1 to 100 (default 20).")
                    Argument("after", at: \.after)
                        .description("The `endCursor` (or an edge's `cursor`) of the transactions already seen.")
                    Argument("from", at: \.from).description("Only transfers effective at or after this instant.")
                    Argument("to", at: \.to).description("Only transfers effective before this instant.")
                    Argument("kinds", at: \.kinds).description("Only these kinds (all when absent).")
                }.description("An organisation's ledger transfers, oldest first, a page at a time.")
                Field("creditPackages", at: LedgerResolver.creditPackages) {
                    Argument("organisationId", at: \.organisationId).description("The organisation's id.")
                }.description("The credit packages on sale, priced in the organisation's currency.")
                Field("organisation", at: LedgerResolver.organisation) {
                    Argument("organisationId", at: \.organisationId).description("The organisation's id.")
                }.description("An organisation's settings and audit trail.")
                Field("grants", at: LedgerResolver.grants) {
                    Argument("organisationId", at: \.organisationId).description("The organisation's id.")
                    Argument("asOf", at: \.asOf).description(
                        "The grants as they stood at this instant: those that had taken effect, each with what was "
                            + "left after the outflows effective by then. Omitted: now.")
                }.description("An organisation's grants, oldest first, with what is left of each (now, or at `asOf`).")
                Field("openHolds", at: LedgerResolver.openHolds) {
                    Argument("organisationId", at: \.organisationId).description("The organisation's id.")
                    Argument("team", at: \.team).description("Only this team's holds.")
                    Argument("investigation", at: \.investigation).description("Only this investigation's holds.")
                }.description("An organisation's holds open now, oldest first: what each promises and until when.")
                Field("draws", at: LedgerResolver.draws) {
                    Argument("organisationId", at: \.organisationId).description("The organisation's id.")
                    Argument("transactionId", at: \.transactionId).description("An outflow: the grants it drew from.")
                    Argument("grantId", at: \.grantId).description("A grant: the outflows that drew on it.")
                }.description("Which grants funded an outflow, or which outflows drew on a grant (give exactly one).")
                Field("auditStatement", at: LedgerResolver.auditStatement) {
                    Argument("organisationId", at: \.organisationId).description("The organisation's id.")
                    Argument("from", at: \.from).description("The window's start (inclusive).")
                    Argument("to", at: \.to).description("The window's end (exclusive).")
                }.description("An organisation's audit statement for a window: opening, closing, digest, signature and the movements.")
                Field("usage", at: LedgerResolver.usage) {
                    Argument("organisationId", at: \.organisationId).description("The organisation's id.")
                    Argument("from", at: \.from).description("Start of the period, inclusive.")
                    Argument("to", at: \.to).description("End of the period, exclusive; at most 400 days after `from`.")
                    Argument("groupBy", at: \.groupBy).description("How to group the deductions.")
                    Argument("asOf", at: \.asOf).description(
                        "The usage as it stood at this instant: deductions effective by then (the window closes there), "
                            + "money from the grants that had taken effect by then (an overdraft settled later costs 0). "
                            + "TEAM, INVESTIGATION or OPERATION only. Omitted: as now.")
                }.description("Deductions in [from, to), grouped, with their money cost (now, or as it stood at `asOf`).")
            }.description("Reads. Every field taking an organisation id answers NOT_FOUND for an organisation the key may not see, exactly as for one that does not exist.")
            Mutation {
                Field("purchaseCreditPackage", at: LedgerResolver.purchaseCreditPackage) {
                    Argument("input", at: \.input).description("The organisation, the package and the idempotency key.")
                }.description("Buys a credit package: records the purchase and creates the Revolut order; pay at `checkoutUrl`. Credits are granted when Revolut reports the payment.")
                Field("allocateCredits", at: LedgerResolver.allocateCredits) {
                    Argument("input", at: \.input).description("The allocation.")
                }.description("Platform admin: grants an allocation.")
                Field("topUpCredits", at: LedgerResolver.topUpCredits) {
                    Argument("input", at: \.input).description("The top-up, optionally with the price paid.")
                }.description("Platform admin: grants a top-up, optionally with the price paid (its cost basis).")
                Field("setReservation", at: LedgerResolver.setReservation) {
                    Argument("input", at: \.input).description("The reservation.")
                }.description("Platform admin: sets or removes a reservation (audited); answers the organisation as it now is.")
                Field("setLowBalanceThresholds", at: LedgerResolver.setLowBalanceThresholds) {
                    Argument("input", at: \.input).description("The thresholds.")
                }.description("Platform admin: replaces the low-balance thresholds (audited); answers the organisation as it now is.")
                Field("setBudget", at: LedgerResolver.setBudget) {
                    Argument("input", at: \.input).description("The budget.")
                }.description("Platform admin: sets, replaces or removes one scope's budget (audited, checked as organisations.yaml is: a child may not exceed its parent); answers the organisation as it now is.")
                Field("voidGrant", at: LedgerResolver.voidGrant) {
                    Argument("input", at: \.input).description("The grant, a key and a reason.")
                }.description("Platform admin: voids what is left of one grant (a reversal transfer, audited, exactly once).")
                Field("moveGrantExpiry", at: LedgerResolver.moveGrantExpiry) {
                    Argument("input", at: \.input).description("The grant, its new expiry, a key and a reason.")
                }.description("Platform admin: moves one grant's expiry later or earlier, never before now (audited, exactly once).")
                Field("adjustCredits", at: LedgerResolver.adjustCredits) {
                    Argument("input", at: \.input).description("The correction; `memo` is required.")
                }.description("Platform admin: corrects a balance; positive credits grant, negative credits draw down. A memo is required.")
            }.description("Writes. Each takes one `input` and answers a payload: the result, or `userErrors` for an expected refusal (unknown organisation, a ledger refusal, an idempotency key reused for a different request). A key without the platform-admin role gets a FORBIDDEN error for the admin mutations. A retry with the same idempotency key changes nothing.")
        }
    }

    /// The endpoint serving this schema, with the balance query compiled (`CreditBalancePlan`).
    public static func endpoint(
        ledger: any LiveLedger, now: @escaping NowProvider, limits: GraphQLLimits, metrics: MetricsRegistry,
        revolut: (any RevolutOrdersAPI)? = nil, auditSigningKey: AuditSigningKey? = nil
    ) throws -> GraphQLEndpoint<LedgerResolver, GraphQLRequestContext> {
        let resolver = LedgerResolver(ledger: ledger, now: now, revolut: revolut, auditSigningKey: auditSigningKey)
        return GraphQLEndpoint(
            schema: try make(), resolver: resolver, limits: limits, metrics: metrics,
            compiler: { document in
                CreditBalancePlan.compile(document).map { plan in
                    CompiledGraphQLQuery { request, context in
                        await plan.run(request, context: context, resolver: resolver)
                    }
                }
            },
            makeContext: { GraphQLRequestContext(principal: $0, keyID: $1, requestID: $2) })
    }
}
