import Ledger

/// Why an allocation could not be made.
public enum AllocationError: Error, Equatable, Sendable {
    /// A weight was negative.
    case weightMustNotBeNegative(index: Int)
    /// Every weight was zero but the total was not: there is nothing to be proportional to.
    case totalNeedsAPositiveWeight
    /// The weights' sum or the total's magnitude does not fit in Int64.
    case overflow
}

/// Proportional splitting of exact integer totals.
public enum Allocation {
    /// Splits `total` over rows in proportion to `weights` so the parts sum to exactly `total`.
    ///
    /// Rule (largest remainder, Hamilton's method): each row first gets
    /// `floor(|total| × weight / Σweights)`; the units still missing (fewer than the number of rows)
    /// go one each to the rows with the largest remainders `|total| × weight mod Σweights`; rows with
    /// equal remainders are served in their given order (lower index first), so the caller's stated
    /// sort order (e.g. team name) makes the result deterministic. A negative total is split as its
    /// magnitude and every part negated, so parts always carry the total's sign. Rows of weight zero
    /// get zero. All arithmetic is exact (128-bit intermediates).
    ///
    /// ```swift
    /// try Allocation.largestRemainder(total: 100, weights: [1, 1, 1])  // [34, 33, 33]
    /// ```
    public static func largestRemainder(total: Int64, weights: [Int64]) throws(AllocationError) -> [Int64] {
        if let negative = weights.firstIndex(where: { $0 < 0 }) { throw .weightMustNotBeNegative(index: negative) }
        guard total != Int64.min else { throw .overflow }
        var weightSum: Int64 = 0
        for weight in weights {
            let (sum, overflow) = weightSum.addingReportingOverflow(weight)
            guard !overflow else { throw .overflow }
            weightSum = sum
        }
        guard weightSum > 0 else {
            if total == 0 { return weights.map { _ in 0 } }
            throw .totalNeedsAPositiveWeight
        }
        let magnitude = UInt64(total.magnitude)
        var parts: [UInt64] = []
        var remainders: [UInt64] = []
        for weight in weights {
            // magnitude × weight / weightSum <= magnitude, so the quotient always fits.
            let product = magnitude.multipliedFullWidth(by: UInt64(weight))
            let (quotient, remainder) = UInt64(weightSum).dividingFullWidth(product)
            parts.append(quotient)
            remainders.append(remainder)
        }
        let missing = Int(magnitude - parts.reduce(0, +))
        precondition(missing >= 0 && missing < max(weights.count, 1), "largest remainder: \(missing) units left")
        let order = remainders.indices.sorted {
            remainders[$0] != remainders[$1] ? remainders[$0] > remainders[$1] : $0 < $1
        }
        for index in order.prefix(missing) { parts[index] += 1 }
        let result = parts.map { total < 0 ? -Int64($0) : Int64($0) }
        assert(result.reduce(0, +) == total, "parts must sum to the total")
        return result
    }

    /// Splits a money total over rows in proportion to their credits (see `largestRemainder`).
    public static func money(_ total: Money, overCredits credits: [Credits]) throws(AllocationError) -> [Money] {
        let parts = try largestRemainder(total: total.minorUnits, weights: credits.map(\.microcredits))
        return parts.map { Money(minorUnits: $0, currency: total.currency) }
    }
}
