import Foundation
import Crypto
import Ledger
import Testing

@testable import Service

/// shared/revolut.md §7 vectors, verbatim, plus the TESTPLAN webhook bad-input list.
@Suite struct WebhookSignatureTests {
    static let new = "wsk_test_Cr3d1tsL3dg3rNewK3y7Qp2Zr9Xv4Mb8N"
    static let old = "wsk_test_Cr3d1tsL3dg3rOldK3y1Hs5Tc3Jw6Ye0D"
    static let attacker = "wsk_test_N0tTh3R3alS3cr3tAaBbCcDdEeFfGgHh"
    static let sentAt = "1767225600000"
    static let nowMs: Int64 = 1_767_225_630_000

    static let completedBody = #"{"event":"ORDER_COMPLETED","order_id":"69559f7a-3c1e-a8d2-b4f0-9d2e71c05a13""#
        + #","merchant_order_ext_ref":"cpk_2026_000142"}"#
    static let authorisedBody = #"{"event":"ORDER_AUTHORISED","order_id":"69559f7a-3c1e-a8d2-b4f0-9d2e71c05a13""#
        + #","merchant_order_ext_ref":"cpk_2026_000142"}"#
    static let tamperedBody = #"{"event":"ORDER_COMPLETED","order_id":"69559f7a-3c1e-a8d2-b4f0-9d2e71c05a13""#
        + #","merchant_order_ext_ref":"cpk_2026_000999"}"#
    static let declinedBody = #"{"event":"ORDER_PAYMENT_DECLINED","order_id":"6955a1c0-77b2-a0e4-91d3-5f8e2a64b7c9""#
        + #","merchant_order_ext_ref":"cpk_2026_000143"}"#

    static let t1Signature = "v1=d94209afd96d1c2b16a8b535122dcfd7520a4c37e51df1dd16dd25702525cf3e"
    static let t2Signature = "v1=d83cde225b8a78ffefbef38bcd05c2d64ffd9924c903607679b14166fffbcd56,"
        + "v1=a8dd8dc9e1f5a2b2bf8b5df391b7ba45c8c8503e0f50a2a9165776e183aa244e"
    static let t4Signature = "v1=cfae743e397a95e5758300dc7a9faab30fd1402998b12ae88716767f1e9ca454"
    static let t5Signature = "v1=3a2cfa3dd91512058da9d43849f430fcd5431be618e31692a9197df8fb0e94ca"

    static func verifier(_ secrets: [String], nowMs: Int64 = nowMs) -> RevolutSignatureVerifier {
        RevolutSignatureVerifier(secrets: secrets, now: { Instant(millisecondsSinceEpoch: nowMs) })
    }

    static func verify(
        _ secrets: [String], signature: String?, timestamp: String? = sentAt, body: String, nowMs: Int64 = nowMs
    ) -> WebhookVerdict {
        verifier(secrets, nowMs: nowMs)
            .verify(signatureHeader: signature, timestampHeader: timestamp, body: Array(body.utf8))
    }

    /// The signature we compute ourselves, for generated bodies (the vectors above pin the algorithm).
    static func sign(_ secret: String, timestamp: String, body: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("v1.\(timestamp).\(body)".utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return "v1=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    @Test func testBodiesMatchTheVectorsDigests() {
        let digest = { (body: String) in
            SHA256.hash(data: Array(body.utf8)).map { String(format: "%02x", $0) }.joined()
        }
        #expect(digest(Self.completedBody) == "d429e09c9860b2af9a19fa5752ae5596860c3c6ed036f7fda7eed1aa1d0ca36c")
        #expect(digest(Self.authorisedBody) == "fba0a361daf9c3945e1f22ded7d198f9dfdf8dee98931fa5015b3a4e383d8c16")
        #expect(digest(Self.tamperedBody) == "0808bd4469c0f3b26871053d52be620c4ad7cd7d70c8f6861d3a73f50e4ed751")
        #expect(digest(Self.declinedBody) == "7413af5a5208282d70e82a840c18cb72dbd49224fb0ad78b53a186904eee62d1")
    }

    @Test func testT1ValidOrderCompletedIsAccepted() {
        #expect(Self.verify([Self.new], signature: Self.t1Signature, body: Self.completedBody) == .accepted)
    }

    @Test func testT2RotationAcceptedWithNewSecret() {
        #expect(Self.verify([Self.new], signature: Self.t2Signature, body: Self.authorisedBody) == .accepted)
    }

    @Test func testT2bRotationAcceptedWithOldSecret() {
        #expect(Self.verify([Self.old], signature: Self.t2Signature, body: Self.authorisedBody) == .accepted)
    }

    @Test func testT3TamperedBodyIsRejected() {
        #expect(
            Self.verify([Self.new], signature: Self.t1Signature, body: Self.tamperedBody)
                == .rejected(.noMatchingSignature))
    }

    @Test func testT4WrongSecretIsRejected() {
        #expect(
            Self.verify([Self.new], signature: Self.t4Signature, body: Self.declinedBody)
                == .rejected(.noMatchingSignature))
        // The attacker's own secret does verify it: the vector really is an HMAC of that body.
        #expect(Self.verify([Self.attacker], signature: Self.t4Signature, body: Self.declinedBody) == .accepted)
    }

    @Test func testT5StaleTimestampIsRejectedThoughSignatureIsValid() {
        let stale = "1767224700000"
        #expect(
            Self.verify([Self.new], signature: Self.t5Signature, timestamp: stale, body: Self.completedBody)
                == .rejected(.timestampOutsideTolerance))
        let thenMs: Int64 = 1_767_224_700_000
        #expect(
            Self.verify(
                [Self.new], signature: Self.t5Signature, timestamp: stale, body: Self.completedBody, nowMs: thenMs)
                == .accepted)
    }

    @Test func testMissingHeadersAreNamed() {
        #expect(Self.verify([Self.new], signature: nil, body: Self.completedBody) == .rejected(.missingSignature))
        #expect(Self.verify([Self.new], signature: "", body: Self.completedBody) == .rejected(.missingSignature))
        #expect(
            Self.verify([Self.new], signature: Self.t1Signature, timestamp: nil, body: Self.completedBody)
                == .rejected(.missingTimestamp))
    }

    @Test(arguments: ["abc", "-1767225600000", "1767225600000.0", " 1767225600000", "1e12", "99999999999999999999"])
    func testMalformedTimestampIsRejected(timestamp: String) {
        #expect(
            Self.verify([Self.new], signature: Self.t1Signature, timestamp: timestamp, body: Self.completedBody)
                == .rejected(.malformedTimestamp))
    }

    @Test func testTimestampInSecondsIsOutsideTolerance() {
        let seconds = "1767225600"
        let signature = Self.sign(Self.new, timestamp: seconds, body: Self.completedBody)
        #expect(
            Self.verify([Self.new], signature: signature, timestamp: seconds, body: Self.completedBody)
                == .rejected(.timestampOutsideTolerance))
    }

    @Test(arguments: [
        (Int64(-300_000), true), (300_000, true), (-300_001, false), (300_001, false), (0, true),
    ])
    func testToleranceIsInclusiveAtFiveMinutes(offsetMs: Int64, accepted: Bool) {
        let sentAt = Self.nowMs + offsetMs
        let signature = Self.sign(Self.new, timestamp: "\(sentAt)", body: Self.completedBody)
        let verdict = Self.verify([Self.new], signature: signature, timestamp: "\(sentAt)", body: Self.completedBody)
        #expect(verdict == (accepted ? .accepted : .rejected(.timestampOutsideTolerance)))
    }

    @Test func testOtherSchemesAndMalformedEntriesAreMalformed() {
        let hex = String(Self.t1Signature.dropFirst(3))
        let cases = [
            "v2=\(hex)", "v1=\(hex.uppercased())", "v1=\(hex.dropLast())", "v1=\(hex)0", "v1=", "garbage", "\(hex)",
            "v1=\(hex.dropLast(2))zz",
        ]
        for signature in cases {
            #expect(
                Self.verify([Self.new], signature: signature, body: Self.completedBody)
                    == .rejected(.malformedSignature),
                "\(signature)")
        }
    }

    @Test func testOnlyTheLastOfSeveralSignaturesIsValid() {
        let valid = Self.sign(Self.new, timestamp: Self.sentAt, body: Self.completedBody)
        let forged = Self.sign(Self.attacker, timestamp: Self.sentAt, body: Self.completedBody)
        let header = [Self.t4Signature, "v2=abc", forged, valid].joined(separator: ", ")
        #expect(Self.verify([Self.new], signature: header, body: Self.completedBody) == .accepted)
    }

    @Test func testTheSecretOrderDoesNotMatterAndEmptySecretsAreIgnored() {
        let body = Self.completedBody
        #expect(Self.verify(["", Self.old, Self.new], signature: Self.t1Signature, body: body) == .accepted)
        #expect(Self.verify([], signature: Self.t1Signature, body: body) == .rejected(.noMatchingSignature))
    }

    @Test func testBodyChangedByOneByteOrReserialisedIsRejected() {
        let spaced = Self.completedBody.replacingOccurrences(of: "\":\"", with: "\": \"")
        var flipped = Array(Self.completedBody.utf8)
        flipped[10] ^= 0x01
        #expect(Self.verify([Self.new], signature: Self.t1Signature, body: spaced) == .rejected(.noMatchingSignature))
        let verdict = Self.verifier([Self.new]).verify(
            signatureHeader: Self.t1Signature, timestampHeader: Self.sentAt, body: flipped)
        #expect(verdict == .rejected(.noMatchingSignature))
    }

    @Test func testConstantTimeEqualComparesWholeArrays() {
        #expect(RevolutSignatureVerifier.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!RevolutSignatureVerifier.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!RevolutSignatureVerifier.constantTimeEqual([1, 2], [1, 2, 3]))
    }
}
