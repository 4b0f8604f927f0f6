import Foundation
import Ingest
@testable import Ledger
import Testing
import TestSupport

/// Goal: batch staging and `POST /v1/usage` refuse a misconfigured cost event by the same rule, field
/// and words. They used to keep two copies of the checks: an investigation of another organisation
/// was `unknownInvestigation` live and `investigationOfAnotherOrganisation` in batch, and the live
/// rule names were string literals. Both now run `CostEventConfigurationRule`; this test asks it with
/// each path's lookups (the batch's tables read once, the live route's one query per event,
/// `PrefetchedEventConfiguration`) for the same events.
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
                 try CostEventConfigurationRule.check(record, in: PrefetchedEventConfiguration(record, reader: reader)))
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

    /// D9: usage dated before the organisation started is refused by both paths alike, for every way the
    /// start is known: `usage_start` (here before the plan start), `plan_start`, and for an organisation with
    /// neither (the fixtures' gchq-lab) the issuer's `usage_earliest`; the start instant itself is accepted.
    @Test("both paths refuse usage before the organisation's usage start, whichever key gives it")
    func usageStart_bothPathsAgree() async throws {
        let directory = TemporaryDirectory("usage-start-rule")
        var configuration = try ConfigurationLoader.load(directory: "\(repositoryRoot)/fixtures/config")
        #expect(configuration.issuer.usageEarliest == LocalDate.parse("2026-01-01"))
        let nca = try #require(configuration.organisations.firstIndex { $0.id == "nca" })
        configuration.organisations[nca].usageStartDate = LocalDate.parse("2026-03-01")  // plan_start 2026-04-01
        let ledger = try LedgerDatabase.create(at: directory.file("ledger.sqlite"))
        let loaded = configuration
        _ = try await ledger.write { try $0.load(loaded) }
        let cases: [(organisation: String, team: String, at: String, accepted: Bool)] = [
            ("gchq-lab", "research", "2001-01-01T00:00:00Z", false),
            ("gchq-lab", "research", "2025-12-31T23:59:59.999Z", false),
            ("gchq-lab", "research", "2026-01-01T00:00:00Z", true),  // London is on GMT in January
            ("met-police", "fraud", "2001-01-01T00:00:00Z", false),
            ("met-police", "fraud", "2026-10-31T23:59:59.999Z", false),
            ("met-police", "fraud", "2026-11-01T00:00:00Z", true),
            ("nca", "border", "2026-02-28T23:59:59.999Z", false),
            ("nca", "border", "2026-03-01T00:00:00Z", true),  // before its plan start, after its usage start
        ]
        let parser = CostEventParser(displayName: "usage-start.jsonl")
        for (index, entry) in cases.enumerated() {
            let line = #"{"event_id":"d9-\#(index)","organisation_id":"\#(entry.organisation)","team":"\#(entry.team)","operation":"ocr","credits":"1","occurred_at":"\#(entry.at)"}"#
            guard case .event(let record) = parser.parse(Array(line.utf8), line: 1) else {
                Issue.record("\(line) did not parse")
                continue
            }
            let (batch, live) = try await ledger.read { reader in
                (try CostEventConfigurationRule.check(record, in: IngestDirectory(reader: reader)),
                 try CostEventConfigurationRule.check(record, in: PrefetchedEventConfiguration(record, reader: reader)))
            }
            #expect(batch == live, "\(line)")
            switch batch {
            case .success:
                #expect(entry.accepted, "\(line) was accepted")
            case .failure(let violation):
                #expect(!entry.accepted && violation.rule == .occurredBeforeOrganisationStart && violation.field == "occurred_at",
                        "\(line): \(violation)")
            }
        }
        // The batch ingest refuses the 2001 event for gchq-lab with the rule, file and line.
        let file = directory.file("old.jsonl")
        try (#"{"event_id":"old","organisation_id":"gchq-lab","team":"research","operation":"ocr","credits":"1","occurred_at":"2001-01-01T00:00:00Z"}"# + "\n")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let summary = try EventIngester(store: ledger).ingest(path: file, displayName: "old.jsonl")
        #expect(summary.rejectedByReason["occurredBeforeOrganisationStart"] == 1 && summary.staged == 0, "\(summary)")
    }
}
