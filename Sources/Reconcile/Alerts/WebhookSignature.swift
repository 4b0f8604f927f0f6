import Crypto
import Foundation
import Ledger

/// The signature on alert webhooks, the same scheme as Revolut's webhooks (docs/ALERTS.md):
///
///     Credits-Request-Timestamp: <milliseconds since the epoch>
///     Credits-Signature: v1=<hex of HMAC-SHA256(secret, "v1.<timestamp>.<raw body>")>
///
/// A receiver recomputes the HMAC over the exact bytes it received, compares in constant time,
/// and refuses timestamps outside its window (5 minutes is what we use for Revolut's).
public enum WebhookSignature {
    public static let signatureHeader = "Credits-Signature"
    public static let timestampHeader = "Credits-Request-Timestamp"
    public static let version = "v1"

    /// `v1=<64 lowercase hex digits>` for `body` sent at `timestamp`.
    public static func sign(body: Data, timestamp: Instant, secret: String) -> String {
        var message = Data("\(version).\(timestamp.millisecondsSinceEpoch).".utf8)
        message.append(body)
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        return "\(version)=" + code.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `header` carries a valid `v1` signature of `body` at `timestamp` (constant time).
    public static func verify(header: String, body: Data, timestamp: Instant, secret: String) -> Bool {
        let expected = Data(sign(body: body, timestamp: timestamp, secret: secret).utf8)
        return header.split(separator: ",").contains { candidate in
            let bytes = Data(candidate.trimmingCharacters(in: .whitespaces).utf8)
            guard bytes.count == expected.count else { return false }
            return zip(bytes, expected).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
        }
    }
}
