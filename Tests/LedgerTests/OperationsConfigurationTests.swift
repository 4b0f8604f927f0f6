import Foundation
import Testing
import TestSupport
@testable import Ledger

/// Goal: `operations.yaml` is optional; when present it lists the operations cost events may name,
/// every rate card entry must name one of them, and a bad list is refused naming file and key.
@Suite struct OperationsConfigurationTests {
    let directory = TemporaryDirectory("operations-config")

    /// The bundled configuration, with `operations.yaml` replaced by `operations` (nil: removed).
    func configuration(operations: String?) throws -> String {
        let fixtures = "\(repositoryRoot)/fixtures/config"
        for name in try FileManager.default.contentsOfDirectory(atPath: fixtures) where name != "operations.yaml" {
            try? FileManager.default.removeItem(atPath: directory.file(name))
            try FileManager.default.copyItem(atPath: "\(fixtures)/\(name)", toPath: directory.file(name))
        }
        try? FileManager.default.removeItem(atPath: directory.file("operations.yaml"))
        if let operations { try operations.write(toFile: directory.file("operations.yaml"), atomically: true, encoding: .utf8) }
        return directory.path
    }

    func loadError(_ operations: String) throws -> ConfigurationError? {
        do {
            _ = try ConfigurationLoader.load(directory: try configuration(operations: operations))
            return nil
        } catch let error as ConfigurationError {
            return error
        }
    }

    @Test func bundledConfiguration_listsItsOperations_andTheLedgerKeepsThem() throws {
        let loaded = try ConfigurationLoader.load(directory: "\(repositoryRoot)/fixtures/config")
        #expect(loaded.operations == ["llm.completion", "embedding", "transcription", "ocr", "translation"])
        let ledger = try LedgerDatabase.create(at: directory.file("ledger.sqlite"))
        _ = try ledger.write { try $0.load(loaded) }
        let stored = try ledger.read { reader in
            (try reader.operations(), try reader.acceptsOperation("ocr"), try reader.acceptsOperation("telepathy"))
        }
        #expect(stored.0 == ["embedding", "llm.completion", "ocr", "transcription", "translation"])
        #expect(stored.1)
        #expect(!stored.2)
    }

    @Test func withoutTheFile_anyOperationIsAccepted() throws {
        let loaded = try ConfigurationLoader.load(directory: try configuration(operations: nil))
        #expect(loaded.operations == nil)
        let ledger = try LedgerDatabase.create(at: directory.file("ledger.sqlite"))
        _ = try ledger.write { try $0.load(loaded) }
        let stored = try ledger.read { reader in (try reader.operations(), try reader.acceptsOperation("telepathy")) }
        #expect(stored.0 == nil)
        #expect(stored.1)
    }

    @Test func reloadingWithoutTheFile_forgetsTheList() throws {
        let ledger = try LedgerDatabase.create(at: directory.file("ledger.sqlite"))
        _ = try ledger.write { try $0.load(ConfigurationLoader.load(directory: "\(repositoryRoot)/fixtures/config")) }
        _ = try ledger.write { try $0.load(ConfigurationLoader.load(directory: configuration(operations: nil))) }
        #expect(try ledger.read { try $0.acceptsOperation("telepathy") })
    }

    @Test func badLists_areRefusedNamingFileAndKey() throws {
        let empty = try loadError("[]\n")
        #expect(empty?.file == "operations.yaml")
        #expect(empty?.problem.contains("lists no operation") == true)

        let duplicate = try loadError("- ocr\n- ocr\n- llm.completion\n- embedding\n- transcription\n- translation\n")
        #expect(duplicate == ConfigurationError(file: "operations.yaml", key: "ocr", problem: "duplicate operation"))

        let badName = try loadError("- ocr\n- \"llm completion\"\n")
        #expect(badName?.file == "operations.yaml")
        #expect(badName?.key == "[1]")

        // rate_cards.yaml prices translation, embedding, ...: each must be listed.
        let unlisted = try loadError("- llm.completion\n- embedding\n- transcription\n- ocr\n")
        // Line 16 of the fixture's rate_cards.yaml is `  - operation: translation`.
        #expect(unlisted == ConfigurationError(
            file: "rate_cards.yaml", key: "default[4].operation",
            problem: "translation is not an operation in operations.yaml", line: 16))
        #expect(unlisted?.description.hasPrefix("rate_cards.yaml:16: default[4].operation: ") == true)
    }

    /// D4: configured credits obey the per-transfer limit too, so no plan allocation or package
    /// top-up can stop reconcile: refused when loaded, naming file and key.
    @Test func creditsAboveTheTransferLimit_areRefusedWhenLoaded() throws {
        let path = try configuration(operations: nil)
        let plans = try String(contentsOfFile: "\(path)/plans.yaml", encoding: .utf8)
        try plans.replacingOccurrences(of: "credits_per_period: 50000", with: "credits_per_period: 1000000000.000001")
            .write(toFile: "\(path)/plans.yaml", atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader.load(directory: path) }
        do {
            _ = try ConfigurationLoader.load(directory: path)
        } catch let error as ConfigurationError {
            #expect(error.file == "plans.yaml")
            #expect(error.problem.contains("Credits.transferMax"))
        }
    }
}
