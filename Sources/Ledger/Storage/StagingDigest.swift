import Crypto

/// SHA-256 in lower-case hex, for the content hashes staging keys on: a cost event's canonical
/// bytes (duplicate versus `eventIDConflict`) and an input file's bytes (re-ingest is a no-op).
/// Lives in Ledger so the stage modules need no crypto dependency of their own.
public struct StagingDigest {
    private var hasher = SHA256()

    public init() {}

    /// Feeds the next bytes (a file is hashed chunk by chunk, never held whole).
    public mutating func update(_ bytes: [UInt8]) {
        hasher.update(data: bytes)
    }

    /// The digest of everything fed so far, as 64 hex digits.
    public func hexDigest() -> String {
        ContentHash.hex(hasher.finalize())
    }

    /// The digest of one byte string.
    public static func hex(of bytes: [UInt8]) -> String {
        var digest = StagingDigest()
        digest.update(bytes)
        return digest.hexDigest()
    }
}
