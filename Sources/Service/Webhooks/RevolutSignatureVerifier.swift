import Crypto
import Ledger

/// Why a Revolut webhook delivery was refused. The raw value is the metrics and log label.
public enum WebhookRejection: String, Sendable, Equatable, CaseIterable {
    /// No `Revolut-Signature` header, or an empty one.
    case missingSignature
    /// No `Revolut-Request-Timestamp` header, or an empty one.
    case missingTimestamp
    /// The timestamp is not a plain decimal count of milliseconds.
    case malformedTimestamp
    /// The timestamp is more than the tolerance away from our clock (replay protection).
    case timestampOutsideTolerance
    /// Well-formed `v1=` entries were present, but none matched any configured secret.
    case noMatchingSignature
    /// The header held no well-formed `v1=<64 lower-case hex>` entry at all.
    case malformedSignature
}

/// The outcome of verifying one delivery.
public enum WebhookVerdict: Sendable, Equatable {
    case accepted
    case rejected(WebhookRejection)
}

/// Verifies Revolut webhook signatures (shared/revolut.md §6.4).
///
/// `v1=hex(HMAC-SHA256(secret, "v1." + timestamp header + "." + raw body))`. The header may carry several
/// comma-separated entries while a secret is being rotated; every entry is tried against every configured
/// secret, and each comparison is constant-time. The timestamp (milliseconds since the epoch) must be within
/// the tolerance of the injected clock, inclusive at both ends.
public struct RevolutSignatureVerifier: Sendable {
    /// Header carrying the signatures.
    public static let signatureHeader = "Revolut-Signature"
    /// Header carrying the sending time in milliseconds since the epoch.
    public static let timestampHeader = "Revolut-Request-Timestamp"
    /// Revolut's documented replay window: five minutes either side.
    public static let defaultToleranceMilliseconds: Int64 = 300_000

    /// Secrets held as bytes: swift-crypto 3's `SymmetricKey` is not Sendable (STACK.md §3).
    private let secrets: [[UInt8]]
    private let toleranceMilliseconds: Int64
    private let now: NowProvider

    /// - Parameters:
    ///   - secrets: every signing secret still considered valid (`wsk_...`, used as UTF-8 bytes).
    ///   - toleranceMilliseconds: accepted distance between the timestamp and `now`, inclusive.
    ///   - now: the clock; never `Date()` directly, so tests can pin it.
    public init(
        secrets: [String],
        toleranceMilliseconds: Int64 = RevolutSignatureVerifier.defaultToleranceMilliseconds,
        now: @escaping NowProvider
    ) {
        self.secrets = secrets.filter { !$0.isEmpty }.map { Array($0.utf8) }
        self.toleranceMilliseconds = toleranceMilliseconds
        self.now = now
    }

    /// Verifies one delivery from its two header values and the raw body bytes exactly as received.
    public func verify(signatureHeader: String?, timestampHeader: String?, body: some Collection<UInt8>)
        -> WebhookVerdict
    {
        guard let signatureHeader, !signatureHeader.isEmpty else { return .rejected(.missingSignature) }
        guard let timestampHeader, !timestampHeader.isEmpty else { return .rejected(.missingTimestamp) }
        guard let sentAt = Self.parseMilliseconds(timestampHeader) else { return .rejected(.malformedTimestamp) }
        let skew = now().millisecondsSinceEpoch - sentAt
        // `magnitude` avoids overflow on Int64.min, which a 19-digit header could otherwise provoke.
        guard skew.magnitude <= toleranceMilliseconds.magnitude else {
            return .rejected(.timestampOutsideTolerance)
        }
        let candidates = Self.parseSignatures(signatureHeader)
        guard !candidates.isEmpty else { return .rejected(.malformedSignature) }
        var message = Array("v1.\(timestampHeader).".utf8)
        message.append(contentsOf: body)
        for secret in secrets {
            let expected = Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
            for candidate in candidates where Self.constantTimeEqual(candidate, expected) {
                return .accepted
            }
        }
        return .rejected(.noMatchingSignature)
    }

    /// A decimal count of milliseconds: ASCII digits only (no sign, no spaces), at most 18 of them.
    static func parseMilliseconds(_ text: String) -> Int64? {
        let digits = Array(text.utf8)
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        return digits.reduce(Int64(0)) { $0 * 10 + Int64($1 - 0x30) }
    }

    /// The decoded MACs of every well-formed `v1=<64 lower-case hex>` entry. Other schemes (`v2=`) and
    /// malformed entries are skipped, so a future scheme next to a valid `v1` still verifies.
    static func parseSignatures(_ header: String) -> [[UInt8]] {
        header.split(separator: ",").compactMap { entry in
            let trimmed = entry.trimmingASCIISpaces()
            guard trimmed.hasPrefix("v1=") else { return nil }
            return decodeLowerHex(trimmed.dropFirst(3), byteCount: 32)
        }
    }

    private static func decodeLowerHex(_ text: Substring, byteCount: Int) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count == byteCount * 2 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(byteCount)
        var index = 0
        while index < utf8.count {
            guard let high = lowerHexValue(utf8[index]), let low = lowerHexValue(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func lowerHexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// Compares every byte whatever the earlier ones were, so timing does not reveal a matching prefix.
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}

extension Substring {
    /// Drops leading and trailing ASCII spaces and tabs (header list items may be padded).
    func trimmingASCIISpaces() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}
