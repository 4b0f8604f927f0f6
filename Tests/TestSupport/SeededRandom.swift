import Foundation

/// SplitMix64: a small, fast, reproducible generator, the one every randomised test draws from.
/// Randomised tests take their seed from `CREDITS_SEED` when set, else from the clock, and print it
/// so any failure can be replayed; property tests over a fixed sample take a fixed seed.
public struct SeededRandom: RandomNumberGenerator {
    public let seed: UInt64
    private var state: UInt64

    /// A fixed seed: the same values on every run.
    public init(seed: UInt64) {
        self.seed = seed
        state = seed
    }

    public init(label: String) {
        let environment = ProcessInfo.processInfo.environment["CREDITS_SEED"].flatMap(UInt64.init)
        seed = environment ?? UInt64(truncatingIfNeeded: Int64(Date().timeIntervalSince1970 * 1_000_000))
        state = seed
        print("\(label): seed \(seed) (rerun with CREDITS_SEED=\(seed))")
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
