import Foundation
import GRDB
import Testing
import TestSupport
@testable import Ledger

/// Goal: the `v2-compact-cost-events` migration keeps every staged event exactly (same values, same
/// digest, same duplicate and conflict decisions afterwards) while storing the content digest as 32
/// bytes and the source file once per name.
@Suite struct CostEventsCompactionTests {
    let directory = TemporaryDirectory("compaction")

    /// Three events, two files; `hash` seeds each event's content digest.
    let events: [(id: String, hash: String, file: String, line: Int)] = [
        ("e1", "a", "inbox/day-1.jsonl", 1), ("e2", "b", "inbox/day-1.jsonl", 2), ("e3", "c", "inbox/day-2.jsonl.gz", 7),
    ]

    func staged(_ id: String, hash: String, file: String, line: Int) -> StagedCostEvent {
        StagedCostEvent(
            eventID: id, contentSHA256: .sha256(of: Array(hash.utf8)), organisationID: "met", team: "analysis",
            investigation: "op-urgent", operation: "ocr", credits: credits("1.5"),
            pricing: RatePricing(quantity: "3", unit: "page", creditsPerUnit: credits("0.5")),
            occurredAt: instant("2026-11-02T10:00:00Z"), attributesJSON: #"{"model":"m"}"#, sourceFile: file,
            sourceLine: line)
    }

    @Test func migration_keepsEveryStagedEvent_andItsDecisions() throws {
        // A ledger as the previous version left it: hex digests and file names on every row.
        let path = directory.file("previous.sqlite")
        let previous = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(previous, upTo: "v1-configuration-changes")
        try previous.write { db in
            try db.execute(sql: """
                INSERT INTO organisations (id, name, currency, time_zone, plan_id, overdraft_limit, settings)
                VALUES ('met', 'Met', 'GBP', 'Europe/London', NULL, 0, '{}')
                """)
            for event in events {
                try db.execute(
                    sql: """
                        INSERT INTO cost_events (event_id, content_hash, organisation_id, team, investigation, operation,
                            credits, quantity, unit, rate, occurred_at, attributes, source_file, source_line, staged_at)
                        VALUES (?, ?, 'met', 'analysis', 'op-urgent', 'ocr', 1500000, '3', 'page', 500000, ?, ?, ?, ?, 1)
                        """,
                    arguments: [event.id, ContentDigest.sha256(of: Array(event.hash.utf8)).hex,
                                instant("2026-11-02T10:00:00Z").millisecondsSinceEpoch, #"{"model":"m"}"#,
                                event.file, event.line])
            }
        }
        try previous.close()

        let migrated = try LedgerDatabase.create(at: path)
        let fresh = try SampleWorld.ledger(in: directory, organisations: [SampleWorld.organisation("met")])
        _ = try fresh.write { try $0.stage(events.map { staged($0.id, hash: $0.hash, file: $0.file, line: $0.line) }) }
        #expect(try migrated.read { try $0.stagedEventsDigest() } == fresh.read { try $0.stagedEventsDigest() })

        let outcomes = try migrated.write { transaction in
            try transaction.stage([
                staged("e1", hash: "a", file: "inbox/day-3.jsonl", line: 1),
                staged("e3", hash: "changed", file: "inbox/day-3.jsonl", line: 2),
                staged("e4", hash: "d", file: "inbox/day-3.jsonl", line: 3),
            ])
        }
        #expect(outcomes == [.duplicate, .conflict(existingSource: "inbox/day-2.jsonl.gz", existingLine: 7), .staged])
        let shape = try migrated.read { reader in
            (try String.fetchAll(reader.db, sql: "SELECT name FROM pragma_index_list('cost_events') ORDER BY name"),
             try String.fetchAll(reader.db, sql: "SELECT name FROM source_files ORDER BY id"))
        }
        // The compaction keeps the primary key alone; v8 adds the plan walk's occurrence order.
        #expect(shape.0 == ["cost_events_by_occurrence", "sqlite_autoindex_cost_events_1"])
        #expect(shape.1 == ["inbox/day-1.jsonl", "inbox/day-2.jsonl.gz", "inbox/day-3.jsonl"])
    }

    @Test func contentDigest_isThirtyTwoBytes_shownAsLowerCaseHex() throws {
        let digest = ContentDigest.sha256(of: Array("abc".utf8))
        #expect(digest.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(ContentDigest(hex: digest.hex.uppercased()) == digest)
        #expect(ContentDigest(bytes: digest.bytes) == digest)
        #expect(digest.bytes.count == 32)
        #expect(ContentDigest(hex: String(digest.hex.dropLast())) == nil)
        #expect(ContentDigest(hex: String(digest.hex.dropLast()) + "g") == nil)
        #expect(ContentDigest(bytes: digest.bytes + [0]) == nil)
        #expect(digest != ContentDigest.sha256(of: Array("abd".utf8)))
    }
}
