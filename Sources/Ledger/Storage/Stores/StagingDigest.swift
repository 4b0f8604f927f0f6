import Crypto
import GRDB

/// SHA-256 in lower-case hex, for the content hashes staging keys on: a cost event's canonical
/// bytes (duplicate versus `eventIDConflict`) and an input file's bytes (re-ingest is a no-op).
/// Lives in Ledger so the stage modules need no crypto dependency of their own.
public struct StagingDigest {
    private var hasher = SHA256()

    public init() {}

    /// Feeds the next bytes (a file is hashed chunk by chunk, never held whole).
    public mutating func update(_ bytes: [UInt8]) {
        hasher.update(data: bytes)
    }

    /// The digest of everything fed so far, as 64 hex digits.
    public func hexDigest() -> String {
        ContentHash.hex(hasher.finalize())
    }

    /// The digest of one byte string.
    public static func hex(of bytes: [UInt8]) -> String {
        var digest = StagingDigest()
        digest.update(bytes)
        return digest.hexDigest()
    }
}

/// A SHA-256 digest held by value (32 bytes, no heap): what staging keeps per cost event to tell
/// a duplicate (same digest under one id) from a conflict. Stored as a 32-byte BLOB, shown as 64
/// lower-case hex digits.
public struct ContentDigest: Sendable, Hashable, CustomStringConvertible {
    /// The digest's bytes as four big-endian words, so equality is four comparisons.
    private let words: (UInt64, UInt64, UInt64, UInt64)

    /// The byte count of a SHA-256 digest.
    public static let byteCount = 32

    /// SHA-256 of `bytes`.
    public static func sha256(of bytes: [UInt8]) -> ContentDigest {
        SHA256.hash(data: bytes).withUnsafeBytes { ContentDigest(rawBytes: $0)! }
    }

    /// The digest whose bytes are `rawBytes`; nil unless there are exactly 32 of them.
    public init?(rawBytes: UnsafeRawBufferPointer) {
        guard rawBytes.count == Self.byteCount else { return nil }
        func word(_ index: Int) -> UInt64 {
            UInt64(bigEndian: rawBytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))
        }
        words = (word(0), word(1), word(2), word(3))
    }

    /// The digest whose bytes are `bytes`; nil unless there are exactly 32 of them.
    public init?(bytes: [UInt8]) {
        guard let digest = bytes.withUnsafeBytes({ ContentDigest(rawBytes: $0) }) else { return nil }
        self = digest
    }

    /// The digest written as 64 hex digits (either case); nil for anything else.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == Self.byteCount * 2 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.byteCount)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = Self.nibble(digits[index]), let low = Self.nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.init(bytes: bytes)
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The 32 bytes, in order.
    public var bytes: [UInt8] {
        [words.0, words.1, words.2, words.3].flatMap { word in
            (0..<8).reversed().map { UInt8(truncatingIfNeeded: word >> ($0 * 8)) }
        }
    }

    /// Calls `body` with the 32 bytes, in order, without allocating.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var bigEndian = (words.0.bigEndian, words.1.bigEndian, words.2.bigEndian, words.3.bigEndian)
        return try Swift.withUnsafeBytes(of: &bigEndian, body)
    }

    /// 64 lower-case hex digits.
    public var hex: String { withUnsafeBytes { ContentHash.hex($0) } }

    public var description: String { hex }

    public static func == (lhs: ContentDigest, rhs: ContentDigest) -> Bool {
        lhs.words == rhs.words
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}

extension LedgerReader {
    /// SHA-256 over every staged cost event (all columns but `staged_at`, by `event_id`): equal
    /// digests mean the same staged records, e.g. a killed-and-rerun ingest versus one clean run.
    public func stagedEventsDigest() throws -> String {
        var digest = StagingDigest()
        let rows = try Row.fetchCursor(db, sql: """
            SELECT e.event_id, lower(hex(e.content_sha256)), e.organisation_id, e.team, e.investigation, e.operation,
                e.credits, e.quantity, e.unit, e.rate, e.occurred_at, e.attributes, f.name, e.source_line
            FROM cost_events e JOIN source_files f ON f.id = e.source_file_id ORDER BY e.event_id
            """)
        while let row = try rows.next() {
            for value in row.databaseValues {
                let text = value.isNull ? "\u{0}" : String(describing: value)
                digest.update(Array("\(text.utf8.count):\(text)".utf8))
            }
        }
        return digest.hexDigest()
    }
}
