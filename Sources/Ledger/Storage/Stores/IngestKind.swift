/// What an ingested file holds, as stored in `ingested_files.kind` and named in summaries and
/// rejects-file names.
public enum IngestKind: String, Sendable, Hashable, Codable {
    case events
    case orders
}
