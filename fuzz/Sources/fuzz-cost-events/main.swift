import Foundation
import FuzzDriver
import Ingest

/// libFuzzer entry point for cost events: the bytes as one record (the `POST /v1/usage` path) and
/// as a whole file (layout detection, gzip, JSON Lines or array splitting, every record parsed).
/// A crash, a trap or a hang is a finding; rejections are the expected answer to most inputs.
func fuzzCostEvents(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    _ = CostEventParser(displayName: "fuzz").parse(bytes, line: 1)
    FuzzFile.withFile(bytes) { path in
        guard let reader = try? CostEventReader(path: path, displayName: "fuzz") else { return }
        _ = try? reader.readAll()
    }
    return 0
}

/// One scratch file per process, rewritten for each input (the readers take a path).
enum FuzzFile {
    static let path = "\(NSTemporaryDirectory())/credits-fuzz-\(getpid())"

    static func withFile(_ bytes: [UInt8], _ body: (String) -> Void) {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
        body(path)
    }
}

exit(runFuzzer { fuzzCostEvents($0, $1) })
