import Foundation
@testable import Ingest
import Testing

/// Goal: the hand-off between the reading and staging threads keeps order, never holds more than
/// its capacity, and a stop releases a producer blocked on a full hand-off.
struct HandOffTests {
    @Test("elements arrive in order and the producer never runs more than capacity ahead")
    func orderAndBound() {
        let handOff = HandOff<Int>(capacity: 3)
        let produced = Counter()
        let done = DispatchSemaphore(value: 0)
        Thread {
            for value in 0..<1000 {
                _ = handOff.put(value)
                produced.increment()
            }
            done.signal()
        }.start()
        for expected in 0..<1000 {
            #expect(handOff.take() == expected)
            // Taken expected + 1; at most 3 more can be in the hand-off, plus one being put.
            #expect(produced.value <= expected + 1 + 3 + 1)
        }
        done.wait()
    }

    @Test("stop releases a producer waiting on a full hand-off, and later puts are refused")
    func stopReleasesProducer() {
        let handOff = HandOff<Int>(capacity: 1)
        #expect(handOff.put(1))
        let refused = DispatchSemaphore(value: 0)
        Thread {
            if !handOff.put(2) { refused.signal() }
        }.start()
        handOff.stop()
        // A guard against hanging the suite if stop() failed to wake the producer, not a timing check.
        #expect(refused.wait(timeout: .now() + 60) == .success)
        #expect(!handOff.put(3))
    }

    /// A counter shared between the two threads of a test.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0

        var value: Int { lock.withLock { count } }

        func increment() { lock.withLock { count += 1 } }
    }
}
