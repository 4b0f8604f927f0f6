import Ledger

/// One refused input record (or file), with where it was and why: the "bad input" error channel.
///
/// Rejections are values, collected and counted per record, never thrown mid-batch. A rejection that
/// condemns a whole file travels inside `InputError.fileRejected` instead.
///
/// The one-line `message` follows hledger's error layout so a person can jump to the spot:
///
///     fixtures/errors/credits-negative.jsonl:3:94: credits: must be greater than zero, got -5 [creditsMustBePositive]
public struct Rejection: Sendable, Hashable, CustomStringConvertible {
    /// The rule that was broken.
    public let rule: RejectionRule
    /// The input file as the user named it.
    public var file: String
    /// 1-based line where the record (or the offending value) starts; nil when unknown.
    public var line: Int?
    /// 1-based byte column on that line; nil when unknown.
    public var column: Int?
    /// The field at fault (`credits`, `attributes.geo`, CSV column name), nil for the whole record.
    public var field: String?
    /// What is wrong, in words, including the value and any limit involved.
    public let detail: String
    /// The raw record as read (may be cut to `IngestLimits.rejectRawBytesMax` by the writer).
    public var raw: [UInt8]?
    /// True when `raw` was already cut before this value was made (a rejection read back from the
    /// ledger, which keeps raw bytes only up to the rejects file's limit).
    public internal(set) var rawWasCut = false

    /// A rejection; `detail` should name the value and any limit involved.
    public init(
        _ rule: RejectionRule, file: String, line: Int? = nil, column: Int? = nil, field: String? = nil,
        detail: String, raw: [UInt8]? = nil
    ) {
        self.rule = rule
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.detail = detail
        self.raw = raw
    }

    /// `FILE[:LINE[:COLUMN]]`.
    public var location: String {
        var text = file
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        return text
    }

    /// `FILE:LINE:COLUMN: FIELD: DETAIL [code]`, the line printed on stderr and stored in rejects files.
    public var message: String {
        let fieldPart = field.map { "\($0): " } ?? ""
        return "\(location): \(fieldPart)\(detail) [\(rule.code)]"
    }

    /// The catalogue form: the message, then what to do about it.
    public var description: String { "\(message)\n\(rule.hint)" }
}

extension Rejection {
    /// The form the ledger keeps (`LedgerTransaction.recordRejection`): raw cut to `rawBytesMax`,
    /// as the rejects file shows it.
    func recorded(rawBytesMax: Int) -> RecordedRejection {
        RecordedRejection(
            reason: rule.code, file: file, line: line, column: column, field: field, detail: detail,
            raw: raw.map { Array($0.prefix(rawBytesMax)) }, rawTruncated: rawWasCut || (raw?.count ?? 0) > rawBytesMax)
    }

    /// A rejection read back from the ledger; nil when its rule is not one this build knows (rule
    /// codes are never renamed, so only a newer build's rule can be unknown).
    init?(recorded: RecordedRejection) {
        guard let rule = RejectionRule(rawValue: recorded.reason) else { return nil }
        self.init(
            rule, file: recorded.file, line: recorded.line, column: recorded.column, field: recorded.field,
            detail: recorded.detail, raw: recorded.raw)
        rawWasCut = recorded.rawTruncated
    }
}

/// A failure to read an input file at all: the operational error channel, mapped to an exit code once.
public enum InputError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The named file does not exist (exit 66).
    case fileMissing(path: String)
    /// The operating system refused to open or read it (exit 74).
    case ioFailure(path: String, detail: String)
    /// The file was read but cannot be used at all; nothing of it may be applied (exit 65).
    case fileRejected(Rejection)


    /// The message, as printed for a person.
    public var description: String {
        switch self {
        case .fileMissing(let path): "\(path): no such file"
        case .ioFailure(let path, let detail): "\(path): \(detail)"
        case .fileRejected(let rejection): rejection.description
        }
    }
}

extension InputError: ClassifiedError {
    /// How the `credits` executable reports it: 66, 74 or 65 (`StageExit`).
    public var failureClass: FailureClass {
        switch self {
        case .fileMissing: .inputMissing
        case .ioFailure: .io
        case .fileRejected: .badData
        }
    }
}
