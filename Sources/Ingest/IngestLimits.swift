/// Every bound the Ingest stage enforces, in one place (TIGER_STYLE: "put a limit on everything").
///
/// The static constants are the production values; an `IngestLimits` value carries them so a test can
/// lower a limit (a 4 GiB gzip bomb is not a unit test) while the code path stays the same. Each limit is
/// enforced at the boundary, tested at the limit (accepted) and one past it (rejected, with the limit in
/// the message).
public struct IngestLimits: Sendable, Hashable {
    /// Longest cost-event line (JSON Lines) or array element (JSON array), excluding the line ending.
    public static let eventLineBytesMax = 1_048_576
    /// Longest identifier (`event_id`, `organisation_id`, `team`, `investigation`, `operation`, `unit`).
    public static let eventIDBytesMax = 128
    /// Deepest nesting of arrays and objects inside `attributes` or an unknown field (the value itself is 1).
    public static let attributesDepthMax = 32
    /// Largest `attributes` value, as written in the input.
    public static let attributesBytesMax = 65_536
    /// Most bytes a gzip file may inflate to.
    public static let decompressedBytesMax: Int64 = 8 * 1_073_741_824
    /// Highest ratio of inflated to compressed bytes; deflate tops out near 1032:1, JSON sits near 10:1.
    public static let compressionRatioMax: Int64 = 200
    /// Inflated bytes before the ratio is checked, so a tiny, highly compressible file is not refused.
    public static let compressionRatioGraceBytes: Int64 = 1_048_576
    /// Largest Revolut order export read whole (JSON is decoded with JSONDecoder, so it is held in memory).
    public static let orderFileBytesMax = 64 * 1_048_576
    /// Longest CSV record (a quoted field may hold newlines, so a record can span lines).
    public static let csvRecordBytesMax = 65_536
    /// Most columns in a CSV header.
    public static let csvColumnsMax = 256
    /// Raw input kept per rejection in the rejects file; longer lines are cut and marked truncated.
    public static let rejectRawBytesMax = 4096
    /// Bytes read from disk per call.
    public static let readChunkBytes = 65_536

    /// This run's value of `IngestLimits.eventLineBytesMax`.
    public var eventLineBytesMax: Int
    /// This run's value of `IngestLimits.eventIDBytesMax`.
    public var eventIDBytesMax: Int
    /// This run's value of `IngestLimits.attributesDepthMax`.
    public var attributesDepthMax: Int
    /// This run's value of `IngestLimits.attributesBytesMax`.
    public var attributesBytesMax: Int
    /// This run's value of `IngestLimits.decompressedBytesMax`.
    public var decompressedBytesMax: Int64
    /// This run's value of `IngestLimits.compressionRatioMax`.
    public var compressionRatioMax: Int64
    /// This run's value of `IngestLimits.compressionRatioGraceBytes`.
    public var compressionRatioGraceBytes: Int64
    /// This run's value of `IngestLimits.orderFileBytesMax`.
    public var orderFileBytesMax: Int
    /// This run's value of `IngestLimits.csvRecordBytesMax`.
    public var csvRecordBytesMax: Int
    /// This run's value of `IngestLimits.csvColumnsMax`.
    public var csvColumnsMax: Int
    /// This run's value of `IngestLimits.rejectRawBytesMax`.
    public var rejectRawBytesMax: Int
    /// This run's value of `IngestLimits.readChunkBytes`.
    public var readChunkBytes: Int

    /// The production limits.
    public static let standard = IngestLimits(
        eventLineBytesMax: eventLineBytesMax, eventIDBytesMax: eventIDBytesMax,
        attributesDepthMax: attributesDepthMax, attributesBytesMax: attributesBytesMax,
        decompressedBytesMax: decompressedBytesMax, compressionRatioMax: compressionRatioMax,
        compressionRatioGraceBytes: compressionRatioGraceBytes, orderFileBytesMax: orderFileBytesMax,
        csvRecordBytesMax: csvRecordBytesMax, csvColumnsMax: csvColumnsMax,
        rejectRawBytesMax: rejectRawBytesMax, readChunkBytes: readChunkBytes)
}
