import Foundation
import FuzzDriver
import Ingest

/// libFuzzer entry point for Revolut order exports: JSON (list, array, JSON Lines), the report CSVs
/// and a mapped CSV, detected from the content as `credits ingest orders` does.
func fuzzOrders(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let path = OrdersInput.scratch
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return 0 }
    _ = try? RevolutOrderReader.read(path: path, displayName: "fuzz")
    _ = try? RevolutOrderReader.read(path: path, displayName: "fuzz", columnMapping: OrdersInput.mapping)
    return 0
}

enum OrdersInput {
    /// One scratch file per process, rewritten for each input (the reader takes a path).
    static let scratch = "\(NSTemporaryDirectory())/credits-fuzz-orders-\(getpid())"

    /// The dashboard statement's mapping (docs/INGEST.md), so mapped CSVs are reached too.
    static let mapping = RevolutCSVColumnMapping(
        orderID: "Order ID", type: "Kind", state: "Status", amount: "Total", currency: "Currency",
        merchantReference: "Reference", createdAt: "Date")
}

exit(runFuzzer { fuzzOrders($0, $1) })
