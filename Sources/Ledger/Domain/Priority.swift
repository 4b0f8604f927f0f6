/// Investigation priority: P1 is the highest. Work with no investigation runs at `unprioritised`,
/// below P4, so it can never spend into any reservation.
public struct Priority: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// 1 for P1 ... 4 for P4; 5 for work outside any investigation.
    public let rank: Int

    public static let p1 = Priority(checkedRank: 1)
    public static let p2 = Priority(checkedRank: 2)
    public static let p3 = Priority(checkedRank: 3)
    public static let p4 = Priority(checkedRank: 4)
    public static let unprioritised = Priority(checkedRank: 5)

    private init(checkedRank rank: Int) { self.rank = rank }

    /// `P1`..`P4` (case-insensitive) or `1`..`4`.
    public init?(_ text: String) {
        let digits = text.uppercased().hasPrefix("P") ? String(text.dropFirst()) : text
        guard let rank = Int(digits), (1...4).contains(rank) else { return nil }
        self.rank = rank
    }

    public init?(rank: Int) {
        guard (1...5).contains(rank) else { return nil }
        self.rank = rank
    }

    /// Lower rank is more important, so P1 < P2 reads as "P1 comes first".
    public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.rank < rhs.rank }

    public var description: String { rank == 5 ? "none" : "P\(rank)" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let priority = Priority(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(text) is not P1..P4")
        }
        self = priority
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
