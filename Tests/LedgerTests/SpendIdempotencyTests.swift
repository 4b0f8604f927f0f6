import Foundation
import Testing
import TestSupport
@testable import Ledger

/// Goal: a spend finds an earlier posting of its idempotency key through its insert (ON CONFLICT
/// DO NOTHING) instead of probing first, and answers exactly as the probe did: the key wins over
/// every balance rule (`exists`, or refused for different content), also within one transaction
/// and in overdraft, while the schema's other unique indexes still refuse what they refused.
@Suite struct SpendIdempotencyTests: FundedLedger {
    let directory = TemporaryDirectory("spend-idempotency")

    @Test func aPostedKeyAnswersBeforeAnyBalanceRule() throws {
        let ledger = try funded()
        let first = try ledger.write { try $0.spend(spend("use", "60")) }
        // 40 left: the same spend again would be refused, but its key answers first.
        let again = try ledger.write { try $0.spend(spend("use", "60")) }
        #expect(again.status == .exists)
        #expect(again.transfer == first.transfer)
        let reused = PostingRejection.idempotencyKeyReusedWithDifferentContent(key: "use", existingTransferID: first.transfer.id)
        #expect(throws: reused) { try ledger.write { try $0.spend(spend("use", "61")) } } // would be refused
        #expect(throws: reused) { try ledger.write { try $0.spend(spend("use", "1")) } } // would post
        // Another key for the same cost event: the schema's unique index still refuses it.
        #expect(throws: StorageError.self) { try ledger.write { try $0.spend(spend("use-again", "1", costEvent: "use")) } }
        try expectVerified(ledger, available: "40")
    }

    @Test func withinOneTransactionAndInOverdraft() throws {
        let ledger = try funded("10", overdraft: credits("50"))
        let overdraft = SpendPolicy.allowOverdraft(limit: credits("50"))
        let (first, again) = try ledger.write { tx in
            (try tx.spend(spend("late", "30", policy: overdraft)), try tx.spend(spend("late", "30", policy: overdraft)))
        }
        #expect(first.status == .posted)
        #expect(first.overdraft == credits("20"))
        #expect(again.status == .exists)
        #expect(again.transfer == first.transfer)
        #expect(again.overdraft == credits("20"))
        try expectVerified(ledger, available: "-20")
    }

    @Test func anUnknownOrganisationIsRefusedBeforeTheKeyIsLookedAt() throws {
        let ledger = try funded()
        var request = spend("use", "1")
        request.organisationID = "nobody"
        #expect(throws: PostingRejection.organisationNotFound("nobody")) { try ledger.write { try $0.spend(request) } }
    }
}
