/// The named rules an input record can violate: the Ingest stage's result codes.
///
/// Each case is named for the rule that was broken (TigerBeetle style) and its `code` is the case name,
/// stable across releases: schedulers, rejects files and the catalogue in docs/INGEST.md key on it.
/// Append new cases; never rename one. The cases after `// Checked later` are produced by the staging
/// and reconcile steps, not by the parsers, and live here so there is one catalogue.
public enum RejectionRule: String, Sendable, Hashable, CaseIterable, Codable {
    // Whole file (the stage aborts the file with exit 65)
    case inputEmpty
    case fileTooLarge
    case gzipCorrupt
    case gzipTruncated
    case decompressedTooLarge
    case compressionRatioTooHigh
    case csvHeaderMissing
    case csvHeaderDuplicate
    case csvLayoutUnrecognised
    case csvDelimiterMustBeComma
    case csvUnbalancedQuote
    // One line or record
    case lineTooLong
    case invalidUTF8
    case nulByte
    case malformedJSON
    case duplicateKey
    case fieldMissing
    case fieldWrongType
    case idEmpty
    case idTooLong
    case idHasSurroundingWhitespace
    case idMustBePrintableASCII
    case creditsMalformed
    case creditsMustBePositive
    case creditsTooManyDecimalPlaces
    case creditsOutOfRange
    case quantityMalformed
    case quantityMustBePositive
    case quantityOutOfRange
    case bothCreditsAndQuantity
    case neitherCreditsNorQuantity
    case timestampMalformed
    case timestampMissingOffset
    case timestampImpossible
    case timestampOutOfRange
    case attributesTooDeep
    case attributesTooLarge
    case csvWrongColumnCount
    case csvRecordTooLong
    case csvStrayQuote
    case amountMalformed
    case amountTooManyDecimalPlaces
    case amountOutOfRange
    case currencyMustBeISO4217
    // Checked later (staging, reconcile), against configuration and the ledger
    case unknownOrganisation
    case unknownTeam
    case unknownInvestigation
    case unknownOperation
    case investigationOfAnotherOrganisation
    case noRateCardEntry
    case eventIDConflict
    case currencyMustMatchOrganisation
    case unknownPackage
    case orderNotTiedToOrganisation
    case orderAmountMismatch
    // Whole file, added later (appended so existing codes keep their place)
    case encodingMustBeUTF8
    // One record, added later
    case creditsAboveEventLimit
    case timestampFinerThanMilliseconds
    case occurredBeforeOrganisationStart

    /// The stable reason code written to rejects files and `--json` summaries.
    public var code: String { rawValue }

    /// Codes kept so they are never reused, but no longer produced by any reader: the checks they
    /// named are reconcile findings (`FindingCode`) or posting refusals. docs/CODES.md lists them as retired.
    public static let retired: Set<RejectionRule> = [
        .currencyMustMatchOrganisation, .unknownPackage, .orderNotTiedToOrganisation, .orderAmountMismatch,
    ]

    /// True when the rule condemns the whole file rather than one record.
    public var isFileLevel: Bool {
        switch self {
        case .inputEmpty, .fileTooLarge, .gzipCorrupt, .gzipTruncated, .decompressedTooLarge,
            .compressionRatioTooHigh, .csvHeaderMissing, .csvHeaderDuplicate, .csvLayoutUnrecognised,
            .csvDelimiterMustBeComma, .csvUnbalancedQuote, .encodingMustBeUTF8:
            true
        default: false
        }
    }

    /// What a person should do about it: the last line of the catalogue entry.
    public var hint: String {
        switch self {
        case .inputEmpty: "The producer wrote no records; check it ran, or do not deliver the file."
        case .fileTooLarge: "Split the export into smaller files (for example one per day)."
        case .gzipCorrupt: "The gzip stream is damaged; fetch the file again from the producer."
        case .gzipTruncated: "The gzip stream ends early (interrupted copy?); fetch the file again."
        case .decompressedTooLarge: "Split the input into several smaller files."
        case .compressionRatioTooHigh: "This looks like a gzip bomb; deliver the file uncompressed if genuine."
        case .csvHeaderMissing: "The first line must be the report's header row."
        case .csvHeaderDuplicate: "Each column name may appear once; rename or drop the repeated column."
        case .csvLayoutUnrecognised: "Export a settlement, payments or custom report, or pass a column mapping."
        case .csvDelimiterMustBeComma: "Export the report as comma-separated values (RFC 4180)."
        case .csvUnbalancedQuote: "Close the quoted field; a quote inside a field is written twice (\"\")."
        case .lineTooLong: "Keep each record on one line under the limit; move bulky data out of attributes."
        case .invalidUTF8: "Write the file as UTF-8."
        case .nulByte: "Remove NUL bytes; the file may be binary or UTF-16."
        case .malformedJSON: "Write each record as one JSON object (RFC 8259)."
        case .duplicateKey: "Give each key once per object."
        case .fieldMissing: "Add the field; docs/INGEST.md lists the required fields."
        case .fieldWrongType: "Use the JSON type the field documents."
        case .idEmpty: "Give the identifier a value."
        case .idTooLong: "Shorten the identifier."
        case .idHasSurroundingWhitespace: "Trim spaces around the identifier."
        case .idMustBePrintableASCII: "Identifiers use printable ASCII only, so two spellings cannot collide."
        case .creditsMalformed: "Write credits as an exact decimal such as 12 or 12.5 (number or string)."
        case .creditsMustBePositive: "Charge a positive amount; corrections are ledger adjustments."
        case .creditsTooManyDecimalPlaces: "Credits carry at most 6 decimal places; round at the producer."
        case .creditsOutOfRange: "The amount is too large to be a charge; check the producer."
        case .quantityMalformed: "Write quantity as an exact decimal such as 1500 or 2.5."
        case .quantityMustBePositive: "Report a positive quantity."
        case .quantityOutOfRange: "The quantity is too large; check the producer."
        case .bothCreditsAndQuantity: "Send either credits, or quantity and unit, not both."
        case .neitherCreditsNorQuantity: "Send credits, or quantity and unit."
        case .timestampMalformed: "Write timestamps as ISO 8601 with an offset, such as 2026-11-03T09:15:00Z."
        case .timestampMissingOffset: "Add the offset (Z or +01:00) so the instant is unambiguous."
        case .timestampImpossible: "The date or time does not exist; check the producer's clock code."
        case .timestampOutOfRange: "Only years 2000 to 2199 are accepted."
        case .attributesTooDeep: "Flatten the nested value."
        case .attributesTooLarge: "Keep attributes small; store bulky data elsewhere and reference it."
        case .csvWrongColumnCount: "Quote fields that contain commas; every row needs the header's columns."
        case .csvStrayQuote: "A quote may only open or close a field; write a quote inside a field as \"\"."
        case .csvRecordTooLong: "The row is far longer than any report row; check for a missing quote."
        case .amountMalformed: "Write amounts with a decimal point and no thousands separator (1234.50)."
        case .amountTooManyDecimalPlaces: "Use no more decimals than the currency has (JPY 0, GBP 2, KWD 3)."
        case .amountOutOfRange: "The amount does not fit; check the export."
        case .currencyMustBeISO4217: "Use an active upper-case ISO 4217 code such as GBP."
        case .unknownOrganisation: "Add the organisation to the configuration, or fix the id."
        case .unknownTeam: "Add the team to the organisation's configuration, or fix the name."
        case .unknownInvestigation: "Add the investigation to the configuration, or fix the name."
        case .unknownOperation: "Add the operation to operations.yaml, or fix the name."
        case .investigationOfAnotherOrganisation: "Attribute the event to the investigation's organisation."
        case .noRateCardEntry: "Add a rate for this operation and unit, or send credits."
        case .eventIDConflict: "An event with this id and different content was taken first; use a new id."
        case .currencyMustMatchOrganisation: "Charge in the organisation's currency."
        case .unknownPackage: "Add the package to the configuration, or fix the order's metadata."
        case .orderNotTiedToOrganisation: "Send our reference or metadata.organisation_id when creating orders."
        case .orderAmountMismatch: "Check the order against the package price; finance must review it."
        case .encodingMustBeUTF8: "Export the file as UTF-8 (without a UTF-16 byte order mark)."
        case .creditsAboveEventLimit:
            "One event charges at most 1000000000 credits (Credits.transferMax); check the producer's units."
        case .timestampFinerThanMilliseconds:
            "Timestamps carry milliseconds; round at the producer (digits after the third must be zeros)."
        case .occurredBeforeOrganisationStart:
            "Usage dated before the organisation's usage start (usage_start, else plan_start, else the issuer's usage_earliest) cannot be charged; check the producer's clock."
        }
    }
}
