import Ledger
import Reports
import Testing
import TestSupport

@Suite("largest remainder allocation")
struct AllocationTests {
    @Test("equal weights: the leftover unit goes to the first row")
    func equalWeights() throws {
        #expect(try Allocation.largestRemainder(total: 100, weights: [1, 1, 1]) == [34, 33, 33])
        #expect(try Allocation.largestRemainder(total: 1, weights: [1, 1]) == [1, 0])
    }

    @Test("ties between equal remainders are broken by row order")
    func tieBreakByIndex() throws {
        // Exact shares 0.5, 1, 0.5: rows 0 and 2 tie, row 0 wins.
        #expect(try Allocation.largestRemainder(total: 2, weights: [1, 2, 1]) == [1, 1, 0])
        // The largest remainder wins regardless of position: 10 × 3/7 = 4.29, 10 × 4/7 = 5.71.
        #expect(try Allocation.largestRemainder(total: 10, weights: [3, 4]) == [4, 6])
    }

    @Test("a negative total is split by magnitude and keeps its sign")
    func negativeTotal() throws {
        #expect(try Allocation.largestRemainder(total: -100, weights: [1, 1, 1]) == [-34, -33, -33])
    }

    @Test("zero weights get nothing; no weight at all needs a zero total")
    func zeroWeights() throws {
        #expect(try Allocation.largestRemainder(total: 7, weights: [0, 5, 0]) == [0, 7, 0])
        #expect(try Allocation.largestRemainder(total: 0, weights: [0, 0]) == [0, 0])
        #expect(throws: AllocationError.totalNeedsAPositiveWeight) {
            try Allocation.largestRemainder(total: 5, weights: [0, 0])
        }
        #expect(throws: AllocationError.weightMustNotBeNegative(index: 1)) {
            try Allocation.largestRemainder(total: 5, weights: [1, -1])
        }
        #expect(throws: AllocationError.overflow) {
            try Allocation.largestRemainder(total: 5, weights: [Int64.max, 1])
        }
    }

    @Test("huge values use 128-bit intermediates")
    func largeValues() throws {
        let parts = try Allocation.largestRemainder(total: Int64.max, weights: [Int64.max / 2, Int64.max / 2])
        #expect(parts.reduce(0, +) == Int64.max)
        #expect(parts == [Int64.max / 2 + 1, Int64.max / 2])
    }

    @Test("random weights: parts sum exactly and each is the floor or ceiling of its exact share")
    func property() throws {
        var generator = SeededRandom(seed: 42)
        for _ in 0..<500 {
            let count = Int(generator.next() % 12) + 1
            let weights = (0..<count).map { _ in Int64(generator.next() % 1_000_000_000) }
            let weightSum = weights.reduce(0, +)
            guard weightSum > 0 else { continue }
            let total = Int64(generator.next() % 10_000_000) - 5_000_000
            let parts = try Allocation.largestRemainder(total: total, weights: weights)
            #expect(parts.reduce(0, +) == total)
            for (part, weight) in zip(parts, weights) {
                let exact = Double(total) * Double(weight) / Double(weightSum)
                #expect(abs(Double(part) - exact) < 1.000001)
            }
        }
    }

    @Test("money over credits: rows sum to the exact total in minor units")
    func moneyOverCredits() throws {
        let credits = ["1000", "1000.25", "345"].map { try! Credits.parse($0).get() }
        let parts = try Allocation.money(Money(minorUnits: 10554, currency: .gbp), overCredits: credits)
        #expect(parts.map(\.minorUnits) == [4500, 4501, 1553])
        #expect(parts.allSatisfy { $0.currency == .gbp })
    }
}
