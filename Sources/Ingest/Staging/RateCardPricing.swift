import Ledger

/// The credits of a cost event's charge: as stated, or priced from the rate card. Batch ingest and
/// `POST /v1/usage` both charge through here, so an event costs the same and is refused by the same rule
/// (`noRateCardEntry`, `creditsOutOfRange`, `creditsMustBePositive`, `creditsAboveEventLimit`) whichever way it arrives.
public enum RateCardPricing {
    /// What a charge comes to.
    public enum Outcome: Sendable, Hashable {
        /// The credits to charge, and the pricing when they came from quantity × rate (to be stored).
        case priced(Credits, RatePricing?)
        case rejected(Rejection)
    }

    /// Prices `record`'s charge. `rate` looks up the rate for (organisation, operation, unit), the
    /// organisation's own entry else the default card's (`IngestDirectory.rate`, `LedgerReader.rate`).
    public static func charge(
        of record: CostEventRecord, rate: (_ organisationID: String, _ operation: String, _ unit: String) throws
            -> Credits?
    ) rethrows -> Outcome {
        switch record.charge {
        case .credits(let credits):
            if let rejection = statedChargeRejection(record) { return .rejected(rejection) }
            return .priced(credits, nil)
        case .quantity(let quantity, let unit):
            guard let rate = try rate(record.organisationID, record.operation, unit) else {
                return .rejected(rejection(
                    .noRateCardEntry, record, field: "unit",
                    detail: "no rate for operation \(record.operation) in unit \(unit) for \(record.organisationID)"))
            }
            let credits = Pricing.credits(quantity: quantity, rate: rate)
            guard let priced = credits, priced.isPositive else {
                return .rejected(rejection(
                    credits == nil ? .creditsOutOfRange : .creditsMustBePositive, record, field: "quantity",
                    detail: "\(quantity) \(unit) at \(rate) credits each prices to "
                        + (credits.map { "\($0) credits" } ?? "more than fits")))
            }
            if let rejection = EventChargeLimit.rejection(
                priced, record, field: "quantity", detail: "\(quantity) \(unit) at \(rate) credits each prices to ")
            {
                return .rejected(rejection)
            }
            return .priced(priced, RatePricing(quantity: quantity.description, unit: unit, creditsPerUnit: rate))
        }
    }

    /// Why `record`'s stated credits cannot be charged (nil when it states none, or they can): the part
    /// of `charge` that needs no rate card, so `POST /v1/usage` can ask before its credit gate and answer
    /// 400 with the rule, never 402, for an event no balance could pay.
    public static func statedChargeRejection(_ record: CostEventRecord) -> Rejection? {
        guard case .credits(let credits) = record.charge else { return nil }
        return EventChargeLimit.rejection(credits, record, field: "credits", detail: "")
    }

    private static func rejection(
        _ rule: RejectionRule, _ record: CostEventRecord, field: String, detail: String
    ) -> Rejection {
        Rejection(rule, file: record.source.file, line: record.source.line, field: field, detail: detail)
    }
}

/// The most one cost event may charge, stated or priced, batch or live: `Credits.transferMax`.
///
/// Why here: every event's credits, whichever way they arrive (a file, `POST /v1/usage`) and however
/// they are written (credits, or quantity × rate), come out of `RateCardPricing.charge`, so the
/// rule has one place. The posting engine refuses a larger transfer too (`amountAboveTransferLimit`),
/// which is what turns an event staged before the limit existed into a reconcile finding.
enum EventChargeLimit {
    static func rejection(_ credits: Credits, _ record: CostEventRecord, field: String, detail: String) -> Rejection? {
        guard credits > Credits.transferMax else { return nil }
        return Rejection(
            .creditsAboveEventLimit, file: record.source.file, line: record.source.line, field: field,
            detail: "\(detail)\(credits) credits, more than one event may charge "
                + "(\(Credits.transferMax) credits, Credits.transferMax)")
    }
}

/// Prices quantity × rate exactly, rounding once to the micro-credit, half-even (the rule is named
/// so a reviewer can check it: `RoundingRule.halfEven`).
enum Pricing {
    static func credits(quantity: ExactDecimal, rate: Credits) -> Credits? {
        var divisor: Int64 = 1
        for _ in 0..<quantity.scale { divisor *= 10 }
        return Checked.multiplyDivide(quantity.significand, rate.microcredits, divisor, .halfEven)
            .map { Credits(microcredits: $0) }
    }
}
