import Foundation

/// A first-in, first-out hand-off between one producing and one consuming thread that holds at
/// most `capacity` elements: the producer waits while it is full, the consumer while it is empty,
/// so memory stays bounded whatever the sizes of the two sides' work. The consumer can `stop` it,
/// after which `put` refuses everything and the producer ends.
///
/// `@unchecked Sendable`: every stored property is read and written only with `condition` locked.
final class HandOff<Element: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private let capacity: Int
    /// At most `capacity` elements, so removing from the front is cheap.
    private var elements: [Element] = []
    private var stopped = false

    init(capacity: Int) {
        precondition(capacity > 0, "a hand-off holds at least one element")
        self.capacity = capacity
    }

    /// Waits for room and appends `element`; false when the consumer has stopped the hand-off.
    func put(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !stopped, elements.count >= capacity { condition.wait() }
        guard !stopped else { return false }
        elements.append(element)
        condition.broadcast()
        return true
    }

    /// Waits for the next element. The producer must always end with a final element.
    func take() -> Element {
        condition.lock()
        defer { condition.unlock() }
        while elements.isEmpty {
            precondition(!stopped, "take() after stop()")
            condition.wait()
        }
        let element = elements.removeFirst()
        condition.broadcast()
        return element
    }

    /// Refuses further elements and wakes a waiting producer, which then ends.
    func stop() {
        condition.lock()
        defer { condition.unlock() }
        stopped = true
        elements.removeAll()
        condition.broadcast()
    }
}
