import CInflate

/// Streams the inflated bytes of a gzip file through the system zlib, one bounded chunk at a time.
///
/// Guards against gzip bombs with two named limits: the total inflated size
/// (`decompressedBytesMax`) and the ratio of inflated to compressed bytes (`compressionRatioMax`,
/// checked once `compressionRatioGraceBytes` have come out). Concatenated gzip members are read in turn
/// (as `gunzip` does). A stream that ends before its trailer is `gzipTruncated`; bad data or trailing
/// garbage is `gzipCorrupt`. All three condemn the whole file.
final class GzipChunkSource: ChunkSource {
    private let compressed: any ChunkSource
    private let displayName: String
    private let limits: IngestLimits
    private var stream = z_stream()
    private var input: [UInt8] = []
    private var inputOffset = 0
    private var inputEnded = false
    private var memberEnded = false
    private var finished = false
    private var inflatedBytes: Int64 = 0

    init(compressed: any ChunkSource, displayName: String, limits: IngestLimits) {
        self.compressed = compressed
        self.displayName = displayName
        self.limits = limits
        // 15 window bits + 16: gzip wrapper only; a zlib or raw stream is not what we detected.
        let status = inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "inflateInit2 failed: \(status)")
    }

    deinit { inflateEnd(&stream) }

    var bytesFromDisk: Int64 { compressed.bytesFromDisk }

    func nextChunk() throws(InputError) -> [UInt8] {
        while !finished {
            if inputOffset == input.count, !inputEnded { try refill() }
            if inputOffset == input.count, inputEnded {
                if memberEnded { finished = true; break }
                throw reject(.gzipTruncated, "the gzip stream ends before its end marker")
            }
            if memberEnded { try startNextMember() }
            let output = try inflateSome()
            if !output.isEmpty { return output }
        }
        return []
    }

    private func refill() throws(InputError) {
        let chunk = try compressed.nextChunk()
        if chunk.isEmpty { inputEnded = true }
        input = chunk
        inputOffset = 0
    }

    /// After one member ends, more input must be another gzip member (`cat a.gz b.gz`).
    private func startNextMember() throws(InputError) {
        guard input[inputOffset] == 0x1f else {
            throw reject(.gzipCorrupt, "unexpected bytes after the end of the gzip stream")
        }
        inflateReset(&stream)
        memberEnded = false
    }

    private func inflateSome() throws(InputError) -> [UInt8] {
        let outputCapacity = limits.readChunkBytes
        var output = [UInt8](repeating: 0, count: outputCapacity)
        let available = input.count - inputOffset
        let (status, consumed, produced) = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress.map { $0 + inputOffset }
                stream.avail_in = UInt32(available)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = UInt32(outputCapacity)
                let status = inflate(&stream, Z_NO_FLUSH)
                return (status, available - Int(stream.avail_in), outputCapacity - Int(stream.avail_out))
            }
        }
        stream.next_in = nil
        stream.next_out = nil
        inputOffset += consumed
        switch status {
        case Z_OK, Z_BUF_ERROR: break
        case Z_STREAM_END: memberEnded = true
        default:
            let reason = stream.msg.map { String(cString: $0) } ?? "status \(status)"
            throw reject(.gzipCorrupt, "the gzip stream is corrupt (\(reason))")
        }
        output.removeSubrange(produced...)
        try account(produced: produced)
        return output
    }

    private func account(produced: Int) throws(InputError) {
        inflatedBytes += Int64(produced)
        if inflatedBytes > limits.decompressedBytesMax {
            throw reject(
                .decompressedTooLarge,
                "inflates to more than decompressedBytesMax (\(limits.decompressedBytesMax) bytes)")
        }
        let compressedSoFar = max(compressed.bytesFromDisk, 1)
        if inflatedBytes > limits.compressionRatioGraceBytes,
            inflatedBytes > compressedSoFar * limits.compressionRatioMax
        {
            throw reject(
                .compressionRatioTooHigh,
                "inflates more than compressionRatioMax (\(limits.compressionRatioMax):1) times its size")
        }
    }

    private func reject(_ rule: RejectionRule, _ detail: String) -> InputError {
        .fileRejected(Rejection(rule, file: displayName, detail: detail))
    }
}
