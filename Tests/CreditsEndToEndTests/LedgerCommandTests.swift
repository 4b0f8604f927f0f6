import Foundation
import Testing
import TestSupport

/// Goal: the `credits` binary as a new user and a scheduler meet it: init twice, administrative
/// postings, balances, history and verify, with exit codes and `--json` summaries asserted.
@Suite struct LedgerCommandTests {
    let directory = TemporaryDirectory("e2e-ledger")
    var db: String { directory.file("ledger.sqlite") }
    var config: String { "\(repositoryRoot)/fixtures/config" }

    func credits(_ arguments: String...) throws -> CreditsBinary.Result {
        try credits(arguments)
    }

    func credits(_ arguments: [String]) throws -> CreditsBinary.Result {
        try CreditsBinary.run(arguments + ["--db", db])
    }

    @Test func init_twiceThenVerify_digestUnchanged() throws {
        let first = try credits("init", "--config", config, "--json")
        #expect(first.exitCode == 0, "\(first.stderr)")
        let firstResult = try #require(try first.json()["result"] as? [String: Any])
        #expect(firstResult["created"] as? Bool == true)
        let verifyBefore = try credits("ledger", "verify", "--json")
        #expect(verifyBefore.exitCode == 0, "\(verifyBefore.stderr)")

        let second = try credits("init", "--config", config, "--json")
        #expect(second.exitCode == 0)
        let secondResult = try #require(try second.json()["result"] as? [String: Any])
        #expect((secondResult["configuration"] as? [String: Any])?["changed"] as? Bool == false)
        let verifyAfter = try credits("ledger", "verify", "--json")
        let before = try #require(verifyBefore.json()["result"] as? [String: Any])
        let after = try #require(verifyAfter.json()["result"] as? [String: Any])
        #expect(before["digest"] as? String == after["digest"] as? String)
        #expect((before["digest"] as? String)?.count == 64)
    }

    @Test func allocateTopUpBalanceHistoryVerify() throws {
        #expect(try credits("init", "--config", config).exitCode == 0)
        let allocate = try credits(
            "ledger", "allocate", "--org", "met-police", "--credits", "50000", "--key", "alloc-2026-11", "--reason", "November allocation",
            "--at", "2026-11-01", "--expires", "2026-12-01", "--price", "1800.00", "--json")
        #expect(allocate.exitCode == 0, "\(allocate.stderr)")
        let topUp = try credits(
            "ledger", "top-up", "--org", "met-police", "--credits", "10000", "--key", "order-1", "--reason", "paid by card", "--price", "450.00",
            "--order", "6951a0c2-0000-4000-8000-000000000001", "--at", "2026-11-02T10:00:00Z", "--json")
        #expect(topUp.exitCode == 0, "\(topUp.stderr)")
        // The same operation again posts nothing; the same key with other content is refused (65).
        let again = try credits(
            "ledger", "top-up", "--org", "met-police", "--credits", "10000", "--key", "order-1", "--reason", "paid by card", "--price", "450.00",
            "--order", "6951a0c2-0000-4000-8000-000000000001", "--at", "2026-11-02T10:00:00Z", "--json")
        #expect((try again.json()["result"] as? [String: Any])?["status"] as? String == "exists")
        let conflict = try credits(
            "ledger", "top-up", "--org", "met-police", "--credits", "9999", "--key", "order-1", "--reason", "paid by card", "--price", "450.00")
        #expect(conflict.exitCode == 65)
        #expect(conflict.stderr.contains("idempotency key order-1 was already used"))
        // Every hand posting says why: without a reason nothing is posted (65, the rule GraphQL shares).
        let unexplained = try credits("ledger", "allocate", "--org", "met-police", "--credits", "1", "--key", "why")
        #expect(unexplained.exitCode == 65)
        #expect(unexplained.stderr.contains("[reasonRequired]") || unexplained.stderr.contains("needs a reason"),
                "\(unexplained.stderr)")

        let balance = try credits("ledger", "balance", "--org", "met-police", "--json")
        #expect(balance.exitCode == 0)
        let rows = try #require(try balance.json()["result"] as? [[String: Any]])
        #expect(rows.first?["available"] as? String == "60000")
        #expect(rows.first?["reserved"] as? String == "5000")
        #expect((rows.first?["spendable"] as? [String: String])?["P3"] == "55000")
        // As it stood at the end of 1 November (before the top-up of the 2nd), and at an instant before anything.
        let firstDay = try credits("ledger", "balance", "--org", "met-police", "--as-of", "2026-11-01", "--json")
        #expect(firstDay.exitCode == 0, "\(firstDay.stderr)")
        #expect((try firstDay.json()["result"] as? [[String: Any]])?.first?["available"] as? String == "50000")
        let before = try credits("ledger", "balance", "--org", "met-police", "--as-of", "2026-10-31T12:00:00Z", "--json")
        #expect((try before.json()["result"] as? [[String: Any]])?.first?["available"] as? String == "0")

        let history = try credits("ledger", "history", "--org", "met-police", "--kind", "top_up", "--json")
        let transfers = try #require(try history.json()["result"] as? [[String: Any]])
        #expect(transfers.count == 1)
        #expect(transfers.first?["kind"] as? String == "top_up")
        // Who posted it: the login name running the command, since no --actor was given.
        #expect(transfers.first?["actor"] as? String == "operator:\(NSUserName())")
        #expect(transfers.first?["balanceAfter"] as? String == "60000", "after the allocation's 50,000")
        let text = try credits("ledger", "history", "--org", "met-police")
        #expect(text.stdout.contains("before") && text.stdout.contains("50000") && text.stdout.contains("60000"),
                "\(text.stdout)")

        let verify = try credits("ledger", "verify")
        #expect(verify.exitCode == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("ok   balancesSumToZero"))
    }

    @Test("a retried adjust without --at posts once, though the clock moved (the rule GraphQL shares)")
    func adjustRetryWithoutAtIsIdempotent() throws {
        #expect(try credits("init", "--config", config).exitCode == 0)
        let arguments = ["ledger", "adjust", "--org", "met-police", "--credits", "25", "--key", "goodwill-1",
                         "--memo", "goodwill credit", "--json"]
        let first = try credits(arguments + ["--now", "2026-11-20T10:00:00Z", "--actor", "alice"])
        #expect(first.exitCode == 0, "\(first.stderr)")
        let transfer = (try first.json()["result"] as? [String: Any])?["transfer"] as? [String: Any]
        #expect(transfer?["actor"] as? String == "operator:alice")
        // A retry by someone else is the same posting: the first actor stands.
        let retry = try credits(arguments + ["--now", "2026-11-20T10:07:00Z", "--actor", "bob"])
        #expect(retry.exitCode == 0, "\(retry.stderr)")
        #expect((try retry.json()["result"] as? [String: Any])?["status"] as? String == "exists")
        let retried = (try retry.json()["result"] as? [String: Any])?["transfer"] as? [String: Any]
        #expect(retried?["actor"] as? String == "operator:alice")
        let noReason = try credits(["ledger", "adjust", "--org", "met-police", "--credits=-5", "--key", "k2"])
        #expect(noReason.exitCode == 65)
        #expect(noReason.stderr.contains("needs a reason"), "\(noReason.stderr)")
    }

    /// The grant controls as an operator uses them: find the grant, see what drew on it, move its expiry,
    /// void what is left; each once, with who and why, and the ledger still verifies.
    @Test func grantControls_listDrawMoveAndVoid() throws {
        #expect(try credits("init", "--config", config, "--now", "2026-11-10T09:00:00Z").exitCode == 0)
        let allocate = try credits(
            "ledger", "allocate", "--org", "nca", "--credits", "100", "--key", "a1", "--reason", "grant",
            "--at", "2026-11-01", "--expires", "2026-11-30", "--now", "2026-11-10T09:00:00Z")
        #expect(allocate.exitCode == 0, "\(allocate.stderr)")
        let grants = try credits("ledger", "grants", "--org", "nca", "--json")
        let grant = try #require((try grants.json()["result"] as? [[String: Any]])?.first)
        let grantID = try #require(grant["id"] as? Int)
        #expect(grant["remaining"] as? String == "100")

        let move = try credits(
            "ledger", "move-expiry", "--grant", "\(grantID)", "--to", "2026-12-31", "--key", "m1",
            "--reason", "extension agreed", "--actor", "carol", "--now", "2026-11-10T09:00:00Z", "--json")
        #expect(move.exitCode == 0, "\(move.stderr)")
        let moved = (try move.json()["result"] as? [String: Any])?["move"] as? [String: Any]
        #expect(moved?["actor"] as? String == "operator:carol")
        let past = try credits(
            "ledger", "move-expiry", "--grant", "\(grantID)", "--to", "2026-11-01", "--key", "m2",
            "--reason", "r", "--now", "2026-11-10T09:00:00Z")
        #expect(past.exitCode == 65 && past.stderr.contains("[expiryBeforeNow]"), "\(past.stderr)")

        let void = try credits(
            "ledger", "void-grant", "--grant", "\(grantID)", "--key", "v1", "--reason", "sold in error",
            "--now", "2026-11-10T09:00:00Z", "--json")
        #expect(void.exitCode == 0, "\(void.stderr)")
        let voided = (try void.json()["result"] as? [String: Any])?["transfer"] as? [String: Any]
        #expect(voided?["kind"] as? String == "reversal" && voided?["amount"] as? String == "100")
        let again = try credits(
            "ledger", "void-grant", "--grant", "\(grantID)", "--key", "v1", "--reason", "sold in error",
            "--now", "2026-11-10T09:05:00Z", "--json")
        #expect((try again.json()["result"] as? [String: Any])?["status"] as? String == "exists")

        let draws = try credits("ledger", "draws", "--grant", "\(grantID)", "--json")
        let rows = try #require(try draws.json()["result"] as? [[String: Any]])
        #expect(rows.count == 1 && rows.first?["credits"] as? String == "100")
        #expect(try credits("ledger", "draws", "--transfer", "999999").exitCode == 66)
        #expect(try credits("ledger", "verify").exitCode == 0)
    }

    /// The audit statement as an auditor runs it: XLSX and CSV with every movement, who and why, opening
    /// and closing, and a digest a second run reproduces.
    @Test func auditStatement_writesWorkbookAndCSV_withAReproducibleDigest() throws {
        #expect(try credits("init", "--config", config).exitCode == 0)
        #expect(try credits(
            "ledger", "allocate", "--org", "nca", "--credits", "100", "--key", "a1", "--reason", "annual grant",
            "--at", "2026-11-01", "--actor", "alice").exitCode == 0)
        #expect(try credits(
            "ledger", "adjust", "--org", "nca", "--credits=-20", "--key", "j1", "--reason", "duplicate charge",
            "--at", "2026-11-03", "--actor", "bob").exitCode == 0)
        let out = directory.file("audit")
        func audit() throws -> [String: Any] {
            let run = try credits(
                "ledger", "audit", "--org", "nca", "--from", "2026-11-01", "--to", "2026-12-01", "--out", out, "--json")
            #expect(run.exitCode == 0, "\(run.stderr)")
            return try #require(try run.json()["result"] as? [String: Any])
        }
        let first = try audit()
        #expect(first["opening"] as? String == "0" && first["closing"] as? String == "80")
        #expect(first["movements"] as? Int == 2)
        let digest = try #require(first["digest"] as? String)
        #expect(try audit()["digest"] as? String == digest, "a second run reproduces the digest")

        let csv = try #require(CSVReader.parse(try String(contentsOfFile: out + "/audit-nca-movements.csv", encoding: .utf8)))
        #expect(csv.count == 3, "header and two movements")
        #expect(csv[1].contains("operator:alice") && csv[1].contains("annual grant"), "\(csv[1])")
        #expect(csv[2].contains("operator:bob") && csv[2].contains("duplicate charge") && csv[2].contains("80"))
        let workbook = try XLSXFile(url: URL(fileURLWithPath: out + "/audit-nca.xlsx"))
        #expect(workbook.sheetNames == ["Summary", "Movements"])
        let summary = try workbook.sheet("Summary")
        #expect(summary["H2"]?.value == digest || summary.cells.values.contains { $0.value == digest })
        #expect(try workbook.sheet("Movements").lastRow >= 3)
    }

    /// Issue 19: the statement is signed with the operator's Ed25519 key and an auditor verifies the files
    /// against the public key; one changed byte fails with the file, line and column named (exit 65); a
    /// statement written without a key says `unsigned` and does not pass a signature check.
    @Test func auditStatement_signedVerified_andOneTamperedByteFails() throws {
        #expect(try credits("init", "--config", config).exitCode == 0)
        #expect(try credits(
            "ledger", "allocate", "--org", "nca", "--credits", "100", "--key", "a1", "--reason", "annual grant",
            "--at", "2026-11-01", "--actor", "alice").exitCode == 0)
        #expect(try credits(
            "ledger", "adjust", "--org", "nca", "--credits=-20", "--key", "j1", "--reason", "=SUM(A1), \"quoted\"",
            "--at", "2026-11-03", "--actor", "bob").exitCode == 0)
        let keys = directory.file("keys")
        let keygen = try credits("ledger", "audit-keygen", "--out", keys, "--json")
        #expect(keygen.exitCode == 0, "\(keygen.stderr)")
        let attributes = try FileManager.default.attributesOfItem(atPath: keys + "/audit-signing-key")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try credits("ledger", "audit-keygen", "--out", keys).exitCode == 64, "never replaces a key")

        let window = ["--org", "nca", "--from", "2026-11-01", "--to", "2026-12-01"]
        let signed = directory.file("signed")
        let run = try credits(["ledger", "audit"] + window + ["--out", signed, "--signing-key", keys + "/audit-signing-key", "--json"])
        #expect(run.exitCode == 0, "\(run.stderr)")
        let result = try #require(try run.json()["result"] as? [String: Any])
        let signature = try #require(result["signature"] as? String)
        #expect(signature.count == 128)
        // The key from the environment gives the same (deterministic) signature.
        let fromEnvironment = directory.file("signed-env")
        let viaEnvironment = try CreditsBinary.run(
            ["ledger", "audit"] + window + ["--out", fromEnvironment, "--json", "--db", db],
            environment: ["CREDITS_AUDIT_SIGNING_KEY": keys + "/audit-signing-key"])
        #expect((try viaEnvironment.json()["result"] as? [String: Any])?["signature"] as? String == signature)

        let publicKey = keys + "/audit-signing-key.pub"
        let verified = try credits("ledger", "audit-verify", signed, "--public-key", publicKey, "--json")
        #expect(verified.exitCode == 0, "\(verified.stderr)")
        #expect((try verified.json()["result"] as? [String: Any])?["signatureChecked"] as? Bool == true)

        // One byte changed in the movements file: -20 becomes -29.
        let movements = signed + "/audit-nca-movements.csv"
        let original = try String(contentsOfFile: movements, encoding: .utf8)
        #expect(original.contains("\"'=SUM(A1), \"\"quoted\"\"\""), "the reason is quoted and neutralised")
        let tampered = original.replacingOccurrences(of: ",-20,", with: ",-29,")
        #expect(tampered != original && tampered.utf8.count == original.utf8.count)
        try tampered.write(toFile: movements, atomically: true, encoding: .utf8)
        let refused = try credits("ledger", "audit-verify", signed + "/audit-nca-summary.csv", "--public-key", publicKey)
        #expect(refused.exitCode == 65)
        #expect(refused.stderr.contains("audit-nca-movements.csv:3") && refused.stderr.contains("Balance after"),
                "\(refused.stderr)")
        // The balance fixed too: the digest no longer matches.
        try tampered.replacingOccurrences(of: ",80,", with: ",71,").write(toFile: movements, atomically: true, encoding: .utf8)
        try String(contentsOfFile: signed + "/audit-nca-summary.csv", encoding: .utf8)
            .replacingOccurrences(of: ",80,", with: ",71,")
            .write(toFile: signed + "/audit-nca-summary.csv", atomically: true, encoding: .utf8)
        let digestRefused = try credits("ledger", "audit-verify", signed, "--public-key", publicKey)
        #expect(digestRefused.exitCode == 65)
        #expect(digestRefused.stderr.contains("Statement digest") && digestRefused.stderr.contains("changed"),
                "\(digestRefused.stderr)")

        // Another key's public half does not verify the genuine statement.
        let otherKeys = directory.file("other-keys")
        #expect(try credits("ledger", "audit-keygen", "--out", otherKeys).exitCode == 0)
        let wrongKey = try credits("ledger", "audit-verify", fromEnvironment, "--public-key", otherKeys + "/audit-signing-key.pub")
        #expect(wrongKey.exitCode == 65 && wrongKey.stderr.contains("not a valid signature"), "\(wrongKey.stderr)")

        // Unsigned: said plainly, digest checkable, signature check refused.
        let unsigned = directory.file("unsigned")
        let unsignedRun = try credits(["ledger", "audit"] + window + ["--out", unsigned])
        #expect(unsignedRun.exitCode == 0 && unsignedRun.stderr.contains("unsigned"))
        let summary = try String(contentsOfFile: unsigned + "/audit-nca-summary.csv", encoding: .utf8)
        #expect(summary.contains(",unsigned,"), "\(summary)")
        #expect(try credits("ledger", "audit-verify", unsigned, "--digest-only").exitCode == 0)
        let unsignedRefused = try credits("ledger", "audit-verify", unsigned, "--public-key", publicKey)
        #expect(unsignedRefused.exitCode == 65 && unsignedRefused.stderr.contains("unsigned"))
        #expect(try credits("ledger", "audit-verify", unsigned).exitCode == 64, "a key or --digest-only")
        #expect(try credits("ledger", "audit-verify", directory.file("nowhere"), "--digest-only").exitCode == 66)
    }

    @Test func exitCodes_forMissingDatabaseBadConfigAndUsage() throws {
        #expect(try credits("ledger", "balance").exitCode == 66)
        let badConfig = TemporaryDirectory("bad-config")
        for name in ["issuer.yaml", "plans.yaml", "packages.yaml", "rate_cards.yaml", "organisations.yaml"] {
            try FileManager.default.copyItem(atPath: "\(config)/\(name)", toPath: badConfig.file(name))
        }
        let broken = try String(contentsOfFile: badConfig.file("plans.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "period: month", with: "period: fortnight")
        try broken.write(toFile: badConfig.file("plans.yaml"), atomically: true, encoding: .utf8)
        let result = try credits("init", "--config", badConfig.path)
        #expect(result.exitCode == 65)
        // The first `period: month` of the fixture is on line 5.
        #expect(result.stderr.contains("plans.yaml:5: [0].period: expected month or financial_year"), "\(result.stderr)")
        #expect(try credits("ledger", "allocate", "--org", "x").exitCode == 64)
        #expect(try credits("init", "--config", "/nonexistent").exitCode == 66)
    }

    @Test func verify_failsWithExit70OnATamperedDatabase() throws {
        #expect(try credits("init", "--config", config).exitCode == 0)
        #expect(try credits("ledger", "allocate", "--org", "nca", "--credits", "100", "--key", "k", "--reason", "r").exitCode == 0)
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        sqlite.arguments = [db, "UPDATE accounts SET debits_posted = debits_posted + 1 WHERE id = 'system:issuance'"]
        try sqlite.run()
        sqlite.waitUntilExit()
        try #require(sqlite.terminationStatus == 0, "sqlite3 is needed to tamper with the file")
        let verify = try credits("ledger", "verify")
        #expect(verify.exitCode == 70)
        #expect(verify.stderr.contains("balancesDerivable"))
        #expect(verify.stdout.contains("FAIL balancesSumToZero") || verify.stderr.contains("balancesSumToZero"))
    }

    /// D10: the documented maximum micro-credits as an adjustment is refused by the per-transfer
    /// limit with exit 65 and a named code, in both directions, and nothing is posted.
    @Test func adjust_aboveTheTransferLimit_exits65WithANamedCode() throws {
        #expect(try credits("init", "--config", config).exitCode == 0)
        for amount in ["9223372036854.775807", "-9223372036854.775807", "1000000000.000001"] {
            let adjust = try credits(
                "ledger", "adjust", "--org", "nca", "--credits=\(amount)", "--key", "adj-\(amount)",
                "--memo", "typo")
            #expect(adjust.exitCode == 65, "\(amount): \(adjust.stderr)")
            #expect(adjust.stderr.contains("[amountAboveTransferLimit]"), "\(adjust.stderr)")
            #expect(!adjust.stderr.contains("REAL value"))
        }
        let history = try credits("ledger", "history", "--org", "nca", "--kind", "adjustment", "--json")
        #expect((try history.json()["result"] as? [[String: Any]])?.isEmpty == true)
        #expect(try credits("ledger", "verify").exitCode == 0)
    }

    /// D4: an operator voids a staged event; the void is audited once, a rerun changes nothing,
    /// reconcile never charges it, and verify passes.
    @Test func voidEvent_isAuditedOnce_andNeverCharged() throws {
        #expect(try credits("init", "--config", config).exitCode == 0)
        let events = directory.file("events.jsonl")
        try (#"{"event_id":"wrong-1","organisation_id":"nca","team":"border","operation":"ocr","credits":"7","#
            + #""occurred_at":"2026-11-03T10:00:00Z"}"# + "\n")
            .write(toFile: events, atomically: true, encoding: .utf8)
        let ingest = try credits("ingest", "events", events)
        #expect(ingest.exitCode == 0, "\(ingest.stderr)")

        let void = try credits(
            "ledger", "void-event", "--event-id", "wrong-1", "--reason", "test record", "--by", "alice",
            "--now", "2026-11-04T08:00:00Z", "--json")
        #expect(void.exitCode == 0, "\(void.stderr)")
        let result = try #require(try void.json()["result"] as? [String: Any])
        #expect(result["status"] as? String == "voided")
        let record = try #require(result["void"] as? [String: Any])
        #expect(record["actor"] as? String == "operator:alice")
        #expect(record["reason"] as? String == "test record")
        #expect(record["organisationID"] as? String == "nca")

        let again = try credits(
            "ledger", "void-event", "--event-id", "wrong-1", "--reason", "other", "--by", "bob", "--json")
        #expect(again.exitCode == 0, "\(again.stderr)")
        let againResult = try #require(try again.json()["result"] as? [String: Any])
        #expect(againResult["status"] as? String == "already_voided")
        #expect((againResult["void"] as? [String: Any])?["actor"] as? String == "operator:alice")

        #expect(try credits("ledger", "void-event", "--event-id", "nope", "--reason", "x").exitCode == 66)
        #expect(try credits("ledger", "void-event", "--event-id", "wrong-1", "--reason", " ").exitCode == 64)

        let reconcile = try credits("reconcile", "--as-of", "2026-11-30", "--json")
        #expect([0, 3].contains(reconcile.exitCode), "\(reconcile.stderr)")
        #expect(try credits("apply").exitCode == 0)
        let history = try credits("ledger", "history", "--org", "nca", "--kind", "deduction", "--json")
        #expect((try history.json()["result"] as? [[String: Any]])?.isEmpty == true)
        let verify = try credits("ledger", "verify")
        #expect(verify.exitCode == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("ok   voidedEventsNeverCharged"))
    }

    /// Issue 19: `ledger balance --as-of --by team|investigation` is each team's and investigation's
    /// consumption as it stood then: usage effective later is not in it.
    @Test func balanceAsOf_byTeamAndInvestigation() throws {
        #expect(try credits("init", "--config", config).exitCode == 0)
        let events = directory.file("events.jsonl")
        try [
            #"{"event_id":"u1","organisation_id":"nca","team":"border","investigation":"op-harbour","operation":"ocr","credits":"7","occurred_at":"2026-11-03T10:00:00Z"}"#,
            #"{"event_id":"u2","organisation_id":"nca","team":"organised-crime","operation":"ocr","credits":"2","occurred_at":"2026-11-04T10:00:00Z"}"#,
            #"{"event_id":"u3","organisation_id":"nca","team":"border","investigation":"op-harbour","operation":"ocr","credits":"5","occurred_at":"2026-11-20T10:00:00Z"}"#,
        ].joined(separator: "\n").appending("\n").write(toFile: events, atomically: true, encoding: .utf8)
        #expect(try credits("ingest", "events", events).exitCode == 0)
        #expect([0, 3].contains(try credits("reconcile", "--as-of", "2026-11-30").exitCode))
        #expect(try credits("apply").exitCode == 0)

        func rows(_ arguments: String...) throws -> [[String: Any]] {
            let run = try credits(["ledger", "balance", "--org", "nca", "--json"] + arguments)
            #expect(run.exitCode == 0, "\(run.stderr)")
            return try #require(try run.json()["result"] as? [[String: Any]])
        }
        let teams = try rows("--as-of", "2026-11-10", "--by", "team")
        #expect(teams.map { "\($0["key"]!)=\($0["credits"]!)" } == ["border=7", "organised-crime=2"], "\(teams)")
        #expect(teams.first?["asOf"] as? String == "2026-11-10T23:59:59.999Z")
        let investigations = try rows("--as-of", "2026-11-30", "--by", "investigation")
        #expect(investigations.map { "\($0["key"]!)=\($0["credits"]!)" } == ["(none)=2", "op-harbour=12"], "\(investigations)")
        #expect(try credits("ledger", "balance", "--by", "operation").exitCode == 64)
    }
}
