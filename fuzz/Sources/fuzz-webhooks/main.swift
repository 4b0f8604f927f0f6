import Crypto
import Foundation
import FuzzDriver
import Ledger
import Service

/// libFuzzer entry point for Revolut webhook deliveries: the signature and timestamp header parsers
/// of `RevolutSignatureVerifier` and the body parser `RevolutWebhookEvent.parse`, in the order the
/// `/webhooks/revolut` route calls them.
///
/// The first byte modulo 3 picks what the rest is (Tests/ServiceTests/ServiceFuzzRegressionTests.swift
/// reads fixtures/fuzz/webhooks the same way):
/// - 0: a body, parsed as if already verified;
/// - 1: `Revolut-Signature` value, a newline, `Revolut-Request-Timestamp` value, a newline, the body:
///   verified against the two secrets of shared/revolut.md §7 at its clock, then parsed when accepted;
/// - 2: a body the harness signs with the current secret, so every body reaches the parser through
///   an accepted verification (a refusal here is itself a finding).
func fuzzWebhooks(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let mode = bytes.first else { return 0 }
    let rest = Array(bytes.dropFirst())
    switch mode % 3 {
    case 0:
        _ = RevolutWebhookEvent.parse(Data(rest))
    case 1:
        let parts = rest.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
        let signature = parts.count > 0 ? String(decoding: parts[0], as: UTF8.self) : nil
        let timestamp = parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : nil
        let body = parts.count > 2 ? Array(parts[2]) : []
        if WebhookFuzzTarget.verifier.verify(signatureHeader: signature, timestampHeader: timestamp, body: body)
            == .accepted
        {
            _ = RevolutWebhookEvent.parse(Data(body))
        }
    default:
        let timestamp = WebhookFuzzTarget.sentAt
        var message = Array("v1.\(timestamp).".utf8)
        message.append(contentsOf: rest)
        let mac = HMAC<SHA256>.authenticationCode(
            for: message, using: SymmetricKey(data: Array(WebhookFuzzTarget.currentSecret.utf8)))
        let signature = "v1=" + mac.map { String(format: "%02x", $0) }.joined()
        let verdict = WebhookFuzzTarget.verifier.verify(
            signatureHeader: signature, timestampHeader: timestamp, body: rest)
        precondition(verdict == .accepted, "a correctly signed delivery was refused: \(verdict)")
        _ = RevolutWebhookEvent.parse(Data(rest))
    }
    return 0
}

/// shared/revolut.md §7: the secrets, the sending time and the verifier's clock of the test vectors.
enum WebhookFuzzTarget {
    static let currentSecret = "wsk_test_Cr3d1tsL3dg3rNewK3y7Qp2Zr9Xv4Mb8N"
    static let previousSecret = "wsk_test_Cr3d1tsL3dg3rOldK3y1Hs5Tc3Jw6Ye0D"
    static let sentAt = "1767225600000"
    static let verifier = RevolutSignatureVerifier(
        secrets: [currentSecret, previousSecret], now: { Instant(millisecondsSinceEpoch: 1_767_225_630_000) })
}

exit(runFuzzer { fuzzWebhooks($0, $1) })
