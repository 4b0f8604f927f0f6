import Foundation

/// A one-line progress bar on stderr, drawn only for a person (stderr is a terminal) and only for
/// inputs big enough to be worth watching; schedulers and pipes never see it.
final class ProgressBar {
    /// Inputs smaller than this finish before a bar would be useful.
    static let minimumBytes: Int64 = 16 * 1_048_576
    /// At most this many redraws per second.
    static let redrawIntervalNanoseconds: UInt64 = 200_000_000

    private let label: String
    private var lastDraw: UInt64 = 0
    private var drawn = false

    /// Nil when no bar should be drawn (not a terminal).
    init?(label: String) {
        guard standardErrorIsTerminal else { return nil }
        self.label = label
    }

    func update(done: Int64, total: Int64) {
        guard total >= Self.minimumBytes else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - lastDraw >= Self.redrawIntervalNanoseconds else { return }
        lastDraw = now
        let percent = Int(min(100, done * 100 / max(total, 1)))
        let filled = percent / 5
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 20 - filled)
        FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(percent)%".utf8))
        drawn = true
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
