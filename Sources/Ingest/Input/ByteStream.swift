/// A forward cursor over a chunked source: the current chunk plus a read position.
/// Both record splitters (lines, array elements) read through it, so neither holds more than one
/// chunk plus the record being assembled.
final class ByteStream {
    private let source: any ChunkSource
    private(set) var chunk: [UInt8] = []
    var position = 0
    private(set) var ended = false

    init(source: any ChunkSource) {
        self.source = source
    }

    var bytesFromDisk: Int64 { source.bytesFromDisk }

    /// Makes at least one unread byte available; false at the end of input.
    func fill() throws(InputError) -> Bool {
        while position >= chunk.count {
            if ended { return false }
            chunk = try source.nextChunk()
            position = 0
            if chunk.isEmpty { ended = true; return false }
        }
        return true
    }

    /// The next byte without consuming it, or nil at the end.
    func peek() throws(InputError) -> UInt8? {
        guard try fill() else { return nil }
        return chunk[position]
    }
}
