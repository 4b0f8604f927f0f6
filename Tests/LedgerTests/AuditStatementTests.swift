import Foundation
import Testing
import TestSupport
@testable import Ledger

/// Goal: an audit statement lists every movement of the window with its actor, reason and the balance
/// after it, opens and closes on the balances at the window's edges, and carries a digest that a second
/// run reproduces and any change to what it states alters.
@Suite struct AuditStatementTests: FundedLedger {
    let directory = TemporaryDirectory("audit-statement")
    let november = (from: instant("2026-11-01T00:00:00Z"), to: instant("2026-12-01T00:00:00Z"))

    /// `met`: 100 funded on 1 November; a spend on the 2nd (by an API key); an adjustment on the 5th by an
    /// operator with a reason; a late spend effective on 31 October (before the window), posted last.
    func world() throws -> LedgerDatabase {
        let ledger = try funded("100")
        _ = try ledger.write(as: .apiKey(id: "3f2a")) { try $0.spend(spend("s1", "10")) }
        _ = try ledger.write(as: .operator(name: "alice")) { tx in
            try tx.postAdmin(AdminPostingRequest(
                kind: .adjustment, idempotencyKey: "adj", organisationID: "met", credits: credits("5"),
                effectiveAt: instant("2026-11-05T00:00:00Z"), memo: "goodwill"))
        }
        _ = try ledger.write { tx in
            try tx.spend(SpendRequest(
                idempotencyKey: "late", organisationID: "met", credits: credits("1"),
                effectiveAt: instant("2026-10-31T12:00:00Z"), priority: .p3, policy: .allowOverdraft(limit: Credits(10)),
                references: TransferReferences(costEventID: "late")))
        }
        return ledger
    }

    func entries(_ statement: AuditStatement) throws -> [AuditEntry] {
        var entries: [AuditEntry] = []
        try statement.forEachEntry { entries.append($0) }
        return entries
    }

    @Test func statement_opensClosesAndNamesWhoAndWhy() throws {
        let ledger = try world()
        try ledger.read { reader in
            let statement = try reader.auditStatement(of: "met", from: november.from, to: november.to)
            // Opening: the late October spend, effective before the window, though posted last.
            #expect(statement.opening == credits("-1"))
            let entries = try entries(statement)
            #expect(entries.map(\.idempotencyKey) == ["fund", "s1", "adj"])
            #expect(entries.map(\.balance) == [credits("99"), credits("89"), credits("94")])
            #expect(entries.map(\.actor) == [.tests, .apiKey(id: "3f2a"), .operator(name: "alice")])
            #expect(entries.map(\.reason) == [nil, nil, "goodwill"])
            #expect(statement.closing == credits("94") && statement.entryCount == 3)
            #expect(statement.closing == (try reader.balance(of: "met", asOf: november.to.adding(milliseconds: -1)).available))
        }
    }

    @Test func digest_isReproducedByASecondRun_andChangesWithWhatItStates() throws {
        let ledger = try world()
        let first = try ledger.read { try $0.auditStatement(of: "met", from: november.from, to: november.to).digest }
        let second = try ledger.read { try $0.auditStatement(of: "met", from: november.from, to: november.to).digest }
        #expect(first == second && first.count == 64)
        // A movement outside the window changes the opening balance, so the digest.
        _ = try ledger.write { tx in
            try tx.spend(SpendRequest(
                idempotencyKey: "later-late", organisationID: "met", credits: credits("1"),
                effectiveAt: instant("2026-10-20T12:00:00Z"), priority: .p3, policy: .allowOverdraft(limit: Credits(10)),
                references: TransferReferences(costEventID: "later-late")))
        }
        let afterOpeningMoved = try ledger.read { try $0.auditStatement(of: "met", from: november.from, to: november.to).digest }
        #expect(afterOpeningMoved != first)
        // December's statement is unaffected by November's movements beyond its opening balance.
        let december = try ledger.read {
            try $0.auditStatement(of: "met", from: november.to, to: instant("2027-01-01T00:00:00Z"))
        }
        #expect(december.entryCount == 0 && december.opening == december.closing)
    }

    /// The signature is over the digest: the key's public half accepts it, another digest or another key
    /// does not; the same key signs the same digest the same way (reruns write identical files).
    @Test func signature_verifiesWithThePublicKeyOnly() throws {
        let ledger = try world()
        let key = AuditSigningKey()
        let statement = try ledger.read { try $0.auditStatement(of: "met", from: november.from, to: november.to) }
        #expect(statement.signature == nil)
        let signature = try #require(statement.signed(with: key).signature)
        #expect(signature.publicKey == key.publicKey && signature.signature.count == 64)
        #expect(key.publicKey.isValidSignature(signature.signature, digest: statement.digest))
        #expect(statement.signed(with: key).signature == signature, "deterministic")
        var other = Array(statement.digest.utf8)
        other[0] = other[0] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        #expect(!key.publicKey.isValidSignature(signature.signature, digest: String(decoding: other, as: UTF8.self)))
        #expect(!AuditSigningKey().publicKey.isValidSignature(signature.signature, digest: statement.digest))
    }

    /// Key files: written and read back; a wrong line is named.
    @Test func keyFiles_roundTrip_andErrorsNameTheLine() throws {
        let key = AuditSigningKey()
        let path = directory.file("key")
        try key.fileText.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try AuditSigningKey(contentsOf: path).publicKey == key.publicKey)
        let publicPath = directory.file("key.pub")
        try key.publicKey.fileText.write(toFile: publicPath, atomically: true, encoding: .utf8)
        #expect(try AuditPublicKey(contentsOf: publicPath) == key.publicKey)
        #expect(throws: AuditKeyError(path: publicPath, line: 1, "expected the line `\(AuditSigningKey.header)`", .badData)) {
            try AuditSigningKey(contentsOf: publicPath)
        }
        try (AuditSigningKey.header + "\nxyz\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: AuditKeyError(path: path, line: 2, "expected 64 hex digits (32 bytes)", .badData)) {
            try AuditSigningKey(contentsOf: path)
        }
        #expect((try? AuditSigningKey(contentsOf: directory.file("missing"))) == nil)
    }

    /// A page of movements read from any cursor has the entries and running balances of the whole
    /// statement at that position; a transfer outside the window is no cursor.
    @Test func pages_fromAnyCursor_matchTheWholeStatement() throws {
        let ledger = try world()
        for index in 0..<4 {
            _ = try ledger.write { try $0.spend(spend("more-\(index)", "1")) }
        }
        try ledger.read { reader in
            let all = try entries(try reader.auditStatement(of: "met", from: november.from, to: november.to))
            #expect(all.count >= 5)
            for limit in 1...3 {
                var pages: [AuditEntry] = []
                var after: Int64?
                while let page = try reader.auditEntries(
                    of: "met", from: november.from, to: november.to, afterTransferID: after, limit: limit), !page.isEmpty {
                    pages += page
                    after = page.last?.transferID
                }
                #expect(pages == all, "limit \(limit)")
            }
            let late = try #require(try reader.auditEntries(
                of: "met", from: instant("2026-10-01T00:00:00Z"), to: november.from, afterTransferID: nil, limit: 10)?.first)
            #expect(try reader.auditEntries(of: "met", from: november.from, to: november.to,
                                            afterTransferID: late.transferID, limit: 10) == nil)
        }
    }
}
