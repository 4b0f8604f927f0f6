import Foundation
import Ledger

/// Checks an audit statement's CSV files (`audit-<org>-summary.csv` and `audit-<org>-movements.csv`, as
/// `AuditStatementWriter` wrote them) the way an auditor would, without the ledger
/// (`credits ledger audit-verify`, docs/LEDGER.md "Signed audit statements"):
///
/// 1. recompute the statement digest from what the files say (window, opening, every movement, closing,
///    count) and require it to equal the digest the summary states;
/// 2. require the summary's signature to be the given public key's Ed25519 signature of that digest.
///
/// Any changed byte that changes a value fails step 1 (or the files no longer parse); a digest changed to
/// match fails step 2. Every error names the file, the line and the column.
public enum AuditStatementVerifier {
    public struct Verified: Sendable, Equatable {
        public let organisationID: String
        public let digest: String
        public let movements: Int
        /// Whether a signature was checked (false only with `requireSignature: false` and no key).
        public let signatureChecked: Bool
    }

    /// The movements file next to a summary file (`…-summary.csv` -> `…-movements.csv`).
    public static func movementsFile(forSummary summary: URL) -> URL {
        let name = summary.lastPathComponent
        let base = name.hasSuffix("-summary.csv") ? String(name.dropLast("-summary.csv".count)) : name
        return summary.deletingLastPathComponent().appendingPathComponent(base + "-movements.csv")
    }

    /// Verifies the statement whose summary file is `summary`; `publicKey` nil checks the digest only.
    public static func verify(summary: URL, publicKey: AuditPublicKey?) throws(AuditVerificationError) -> Verified {
        let movements = movementsFile(forSummary: summary)
        let summaryRows = try records(summary, header: CSVFormat.header(AuditSummaryRow.columns))
        guard summaryRows.count == 1, let head = summaryRows.first else {
            throw AuditVerificationError(summary.path, line: 2, "expected exactly one summary row, found \(summaryRows.count)")
        }
        let fields = Fields(file: summary, line: head.line, fields: head.fields, columns: AuditSummaryRow.columns)
        let organisationID = try fields.text("Organisation")
        let currencyCode = try fields.text("Currency")
        guard let currency = Currency(code: currencyCode) else {
            throw fields.error("Currency", "`\(currencyCode)` is not an ISO 4217 code")
        }
        let from = try fields.instant("From")
        let to = try fields.instant("To (exclusive)")
        let opening = try fields.credits("Opening balance")
        let closing = try fields.credits("Closing balance")
        let count = try fields.integer("Movements")
        let stated = try fields.text("Statement digest (SHA-256)")
        let signatureText = try fields.text("Signature (Ed25519)")

        var digest = AuditStatementDigest(
            organisationID: organisationID, currency: currency, from: from, to: to, opening: opening)
        let rows = try records(movements, header: CSVFormat.header(AuditEntryRow.columns))
        var balance = opening
        for row in rows {
            let fields = Fields(file: movements, line: row.line, fields: row.fields, columns: AuditEntryRow.columns)
            let entry = try fields.entry(currency: currency)
            guard let expected = try? balance.adding(entry.credits), expected == entry.balance else {
                throw fields.error("Balance after", "\(entry.balance) does not follow from \(balance) and \(entry.credits)")
            }
            balance = entry.balance
            digest.add(entry)
        }
        let recomputed = digest.finish(closing: closing, entries: count)
        guard rows.count == count else {
            throw AuditVerificationError(movements.path, line: nil, "\(rows.count) movement(s), the summary says \(count)")
        }
        guard balance == closing else {
            throw AuditVerificationError(summary.path, line: head.line, column: "Closing balance",
                                         "\(closing), the movements end at \(balance)")
        }
        guard recomputed == stated else {
            throw AuditVerificationError(summary.path, line: head.line, column: "Statement digest (SHA-256)",
                                         "the files' content gives digest \(recomputed), the statement says \(stated): "
                                            + "the statement was changed after it was written")
        }
        guard let publicKey else {
            return Verified(organisationID: organisationID, digest: stated, movements: count, signatureChecked: false)
        }
        guard signatureText != AuditStatement.unsignedText else {
            throw AuditVerificationError(summary.path, line: head.line, column: "Signature (Ed25519)",
                                         "the statement is unsigned")
        }
        guard let signature = AuditStatementSignature.bytes(hex: signatureText), signature.count == 64,
              publicKey.isValidSignature(signature, digest: stated)
        else {
            throw AuditVerificationError(summary.path, line: head.line, column: "Signature (Ed25519)",
                                         "not a valid signature of digest \(stated) by public key \(publicKey.hex)")
        }
        return Verified(organisationID: organisationID, digest: stated, movements: count, signatureChecked: true)
    }

    private static func records(_ url: URL, header: [String]) throws(AuditVerificationError) -> [(line: Int, fields: [String])] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            let missing = !FileManager.default.fileExists(atPath: url.path)
            throw AuditVerificationError(url.path, line: nil, missing ? "no such file" : "not readable UTF-8 text",
                                         missing ? .inputMissing : .badData)
        }
        var rows: [(line: Int, fields: [String])]
        do { rows = try CSVRecords.parse(text) } catch {
            throw AuditVerificationError(url.path, line: error.line, error.reason)
        }
        guard let first = rows.first, first.fields == header else {
            throw AuditVerificationError(url.path, line: 1, "expected the header \(header.joined(separator: ","))")
        }
        rows.removeFirst()
        return rows
    }

    /// One record's fields by column title (a money column is two fields: amount, currency).
    private struct Fields {
        let file: URL
        let line: Int
        private(set) var values: [String: String] = [:]
        let count: Int

        init(file: URL, line: Int, fields: [String], columns: [ReportColumn]) {
            self.file = file
            self.line = line
            count = fields.count
            for (title, value) in zip(CSVFormat.header(columns), fields) { values[title] = value }
            if fields.count != CSVFormat.header(columns).count { values = [:] }
        }

        /// The movement this record of the movements file states.
        func entry(currency: Currency) throws(AuditVerificationError) -> AuditEntry {
            let kindText = try text("Kind")
            guard let kind = TransferKind(rawValue: kindText) else {
                throw error("Kind", "`\(kindText)` is not a transfer kind")
            }
            let actorText = try text("Actor")
            guard let actor = Actor(storedText: actorText) else { throw error("Actor", "`\(actorText)` is not an actor") }
            return AuditEntry(
                transferID: Int64(try integer("Transfer")), effectiveAt: try instant("Effective"),
                recordedAt: try instant("Recorded"), kind: kind, credits: try credits("Credits"),
                money: try money("Money", currency: currency), balance: try credits("Balance after"),
                actor: actor, reason: try optionalText("Reason"), idempotencyKey: try text("Idempotency key"),
                reference: try optionalText("Reference"))
        }

        func error(_ column: String, _ reason: String) -> AuditVerificationError {
            AuditVerificationError(file.path, line: line, column: column, reason)
        }

        func raw(_ column: String) throws(AuditVerificationError) -> String {
            guard let value = values[column] else {
                throw AuditVerificationError(file.path, line: line, "\(count) field(s), not the statement's columns")
            }
            return value
        }

        func text(_ column: String) throws(AuditVerificationError) -> String { CSVRecords.unneutralised(try raw(column)) }

        func optionalText(_ column: String) throws(AuditVerificationError) -> String? {
            let value = try text(column)
            return value.isEmpty ? nil : value
        }

        func integer(_ column: String) throws(AuditVerificationError) -> Int {
            let value = try raw(column)
            guard let number = Int(value) else { throw error(column, "`\(value)` is not an integer") }
            return number
        }

        func instant(_ column: String) throws(AuditVerificationError) -> Instant {
            let value = try raw(column)
            guard case .success(let instant) = Instant.parse(value), instant.iso8601 == value else {
                throw error(column, "`\(value)` is not an instant as statements write them")
            }
            return instant
        }

        func credits(_ column: String) throws(AuditVerificationError) -> Credits {
            let value = try raw(column)
            guard case .success(let credits) = Credits.parse(value), credits.description == value else {
                throw error(column, "`\(value)` is not credits as statements write them")
            }
            return credits
        }

        func money(_ column: String, currency: Currency) throws(AuditVerificationError) -> Money {
            let value = try raw(column)
            let code = try raw(column + " currency")
            guard code == currency.code else { throw error(column + " currency", "`\(code)`, the statement is in \(currency.code)") }
            guard case .success(let money) = Money.parse(major: value, currency: currency), money.amountText == value else {
                throw error(column, "`\(value)` is not \(currency.code) as statements write it")
            }
            return money
        }
    }
}

/// Why a statement does not verify: names the file, the line and the column (exit 65, or 66 for a missing file).
public struct AuditVerificationError: ClassifiedError, Equatable {
    public let path: String
    public let line: Int?
    public let column: String?
    public let reason: String
    public let failureClass: FailureClass

    public init(_ path: String, line: Int?, column: String? = nil, _ reason: String, _ failureClass: FailureClass = .badData) {
        self.path = path
        self.line = line
        self.column = column
        self.reason = reason
        self.failureClass = failureClass
    }

    public var description: String {
        "\(path)\(line.map { ":\($0)" } ?? "")\(column.map { ": \($0)" } ?? ""): \(reason)"
    }
}
