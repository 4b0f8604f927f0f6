import Foundation
import Ingest
import Testing

/// Every input in fixtures/fuzz/ once crashed a fuzz harness (fuzz/README.md). Each is fed to the
/// calls the harnesses make; the parsers must answer (an event, an order or a rejection naming the
/// file and saying what is wrong), never trap. The subfolders (graphql/, webhooks/) belong to the
/// Service harnesses and are replayed by ServiceFuzzRegressionTests.
struct FuzzRegressionTests {
    static var inputs: [String] {
        let directory = Fixtures.path("fixtures/fuzz")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.sorted().map { directory + "/" + $0 }.filter { path in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
        }
    }

    static func expectNamed(_ rejection: Rejection?) {
        guard let rejection else { return }
        #expect(rejection.file == "fuzz" && !rejection.detail.isEmpty, "\(rejection)")
    }

    @Test("cost events: each input as one record and as a file", arguments: inputs)
    func costEvents(path: String) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        if case .rejected(let rejection) = CostEventParser(displayName: "fuzz").parse(bytes, line: 1) {
            Self.expectNamed(rejection)
        }
        do throws(InputError) {
            for outcome in try CostEventReader(path: path, displayName: "fuzz").readAll() {
                if case .rejected(let rejection) = outcome { Self.expectNamed(rejection) }
            }
        } catch {
            if case .fileRejected(let rejection) = error { Self.expectNamed(rejection) }
        }
    }

    @Test("order exports: each input as a file", arguments: inputs)
    func orders(path: String) throws {
        do throws(InputError) {
            let file = try RevolutOrderReader.read(path: path, displayName: "fuzz")
            for outcome in file.outcomes {
                if case .rejected(let rejection) = outcome { Self.expectNamed(rejection) }
            }
        } catch {
            if case .fileRejected(let rejection) = error { Self.expectNamed(rejection) }
        }
    }
}
