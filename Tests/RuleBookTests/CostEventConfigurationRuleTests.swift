import Foundation
import Ingest
@testable import Ledger
import Testing
import TestSupport

/// Goal: batch staging and `POST /v1/usage` refuse a misconfigured cost event by the same rule, field
/// and words. They used to keep two copies of the checks: an investigation of another organisation
/// was `unknownInvestigation` live and `investigationOfAnotherOrganisation` in batch, and the live
/// rule names were string literals. Both now run `CostEventConfigurationRule`; this test asks it with
/// each path's lookups (the batch's tables read once, the live route's point lookups) for the same events.
@Suite struct CostEventConfigurationRuleTests {
    static let cases: [(json: String, rule: RejectionRule?)] = [
        (#""organisation_id":"met","team":"analysis","investigation":"op-urgent""#, nil),
        (#""organisation_id":"met","team":"analysis""#, nil),
        (#""organisation_id":"nope","team":"analysis""#, .unknownOrganisation),
        (#""organisation_id":"met","team":"nobody""#, .unknownTeam),
        (#""organisation_id":"met","team":"analysis","investigation":"gmp-only""#, .investigationOfAnotherOrganisation),
        (#""organisation_id":"met","team":"analysis","investigation":"no-such""#, .unknownInvestigation),
    ]

    @Test("both paths' lookups give the same answer for every configuration rule")
    func bothPathsAgree() async throws {
        let directory = TemporaryDirectory("configuration-rule")
        var gmp = SampleWorld.organisation("gmp")
        gmp.investigations.append(Investigation(id: "gmp-only", name: "GMP", teamID: "analysis", priority: .p2, status: .open))
        let ledger = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met"), gmp])
        let parser = CostEventParser(displayName: "rule-book.jsonl")
        for (index, entry) in Self.cases.enumerated() {
            let line = #"{"event_id":"e\#(index)",\#(entry.json),"operation":"ocr","credits":"1","occurred_at":"2026-11-10T10:00:00Z"}"#
            guard case .event(let record) = parser.parse(Array(line.utf8), line: 1) else {
                Issue.record("\(line) did not parse")
                continue
            }
            let (batch, live) = try await ledger.read { reader in
                (try CostEventConfigurationRule.check(record, in: IngestDirectory(reader: reader)),
                 try CostEventConfigurationRule.check(record, in: reader))
            }
            #expect(batch == live, "\(line)")
            switch batch {
            case .success(let priority):
                #expect(entry.rule == nil, "\(line) was accepted")
                #expect(priority == (entry.json.contains("op-urgent") ? .p1 : .unprioritised))
            case .failure(let violation):
                #expect(violation.rule == entry.rule, "\(line): \(violation)")
            }
        }
    }
}
