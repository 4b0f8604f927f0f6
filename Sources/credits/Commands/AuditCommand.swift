import ArgumentParser
import Foundation
import Ledger
import Reports

/// `ledger audit`: an organisation's audit statement for a window, as XLSX and CSV, with its digest and,
/// given the operator's key, its signature.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Write an organisation's audit statement (every movement with actor and reason) as XLSX and CSV.",
        discussion: """
            Opening balance, every transfer effective in the window (with who made it, why, and the balance \
            after it), closing balance, and a SHA-256 digest over all of it that a second run over the same \
            ledger reproduces (docs/LEDGER.md, "Audit statements"). Dates are days in the organisation's time \
            zone: --from 2026-11-01 --to 2026-12-01 is November. With --signing-key (or the environment \
            variable CREDITS_AUDIT_SIGNING_KEY naming the file) the digest is signed with the operator's \
            Ed25519 key (made by `credits ledger audit-keygen`) and `credits ledger audit-verify` checks it; \
            without a key the statement says `unsigned`.
            """)

    @OptionGroup var options: GlobalOptions
    @Option(name: .long, help: "The organisation.") var org: String
    @Option(name: .long, help: "From this date or instant (inclusive).") var from: String
    @Option(name: .long, help: "To this date or instant (exclusive).") var to: String
    @Option(name: .long, help: "Sign with this Ed25519 key file (default $CREDITS_AUDIT_SIGNING_KEY; neither: unsigned).")
    var signingKey: String?
    @OptionGroup var output: ReportOutputOptions

    /// The environment variable naming the signing key file when --signing-key is absent.
    static let signingKeyVariable = "CREDITS_AUDIT_SIGNING_KEY"

    struct Summary: Encodable {
        let organisationID: String
        let from: Instant
        let to: Instant
        let opening: Credits
        let closing: Credits
        let movements: Int
        let digest: String
        /// 128 hex digits, or `unsigned`.
        let signature: String
        let signingKey: String?
        let outputs: [String]
    }

    func run() throws {
        let formats = try output.formats()
        let start = try moment(from, option: "--from")
        let end = try moment(to, option: "--to")
        try Runner.run("ledger audit", options: options, lock: false) {
            let keyPath = signingKey ?? ProcessInfo.processInfo.environment[Self.signingKeyVariable].flatMap {
                $0.isEmpty ? nil : $0
            }
            let key = try keyPath.map { path throws(AuditKeyError) in try AuditSigningKey(contentsOf: path) }
            let directory = try output.directory()
            let (statement, outputs) = try LedgerReadAccess.read(options, clock: try options.clock()) { reader in
                let (from, to) = (try start.instant(for: org, reader), try end.instant(for: org, reader))
                guard from < to else { throw ValidationError("--from must be before --to") }
                let statement = try reader.auditStatement(of: org, from: from, to: to).signed(with: key)
                return (statement, try AuditStatementWriter(formats: formats).write(statement, to: directory))
            }
            let summary = Summary(
                organisationID: org, from: statement.from, to: statement.to, opening: statement.opening,
                closing: statement.closing, movements: statement.entryCount, digest: statement.digest,
                signature: statement.signature?.hex ?? AuditStatement.unsignedText,
                signingKey: statement.signature?.publicKey.hex, outputs: outputs.map(\.path))
            return StageOutcome(summary: summary, human: [
                "audit \(org) \(statement.from.iso8601)..<\(statement.to.iso8601): opening \(statement.opening), "
                    + "\(statement.entryCount) movement(s), closing \(statement.closing)",
                "digest \(statement.digest)",
                statement.signature.map { "signed with Ed25519 public key \($0.publicKey.hex)" }
                    ?? "unsigned (no --signing-key, no $\(Self.signingKeyVariable))",
                "\(outputs.count) file(s) in \(output.out)",
            ])
        }
    }

    private func moment(_ text: String, option: String) throws -> BalanceMoment {
        if let date = LocalDate.parse(text) { return .startOf(date) }
        return .instant(try parseInstantArgument(text, option: option))
    }
}

/// `ledger audit-verify`: checks an audit statement's CSV files against the operator's public key.
struct AuditVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit-verify",
        abstract: "Check an audit statement: recompute its digest from the CSV files and check its signature.",
        discussion: """
            STATEMENT is the statement's summary CSV (audit-<org>-summary.csv; the movements file next to it is \
            read too) or the directory holding exactly one. Exit 0: the files state exactly what was signed; 65: \
            they were changed, the signature is not the key's, or the statement is unsigned (the error names \
            the file, line and column); 66: a file is missing. Needs no database.
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The summary CSV, or the directory holding it.") var statement: String
    @Option(name: .long, help: "The operator's public key file (from audit-keygen).") var publicKey: String?
    @Flag(name: .long, help: "Check only the digest, not the signature (no public key needed).") var digestOnly = false

    struct Summary: Encodable {
        let organisationID: String
        let digest: String
        let movements: Int
        let signatureChecked: Bool
    }

    func validate() throws {
        if publicKey == nil && !digestOnly { throw ValidationError("give --public-key FILE (or --digest-only)") }
        if publicKey != nil && digestOnly { throw ValidationError("--digest-only takes no --public-key") }
    }

    func run() throws {
        try Runner.run("ledger audit-verify", options: options, lock: false) {
            let key = try publicKey.map { path throws(AuditKeyError) in try AuditPublicKey(contentsOf: path) }
            let summary = try summaryFile()
            let verified = try AuditStatementVerifier.verify(summary: summary, publicKey: key)
            return StageOutcome(
                summary: Summary(organisationID: verified.organisationID, digest: verified.digest,
                                 movements: verified.movements, signatureChecked: verified.signatureChecked),
                human: [
                    "\(summary.path): \(verified.movements) movement(s), digest \(verified.digest) recomputed and matching",
                    verified.signatureChecked ? "signature OK (public key \(key?.hex ?? ""))"
                        : "signature NOT checked (--digest-only)",
                ])
        }
    }

    private func summaryFile() throws(AuditVerificationError) -> URL {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: statement, isDirectory: &isDirectory) else {
            throw AuditVerificationError(statement, line: nil, "no such file or directory", .inputMissing)
        }
        guard isDirectory.boolValue else { return URL(fileURLWithPath: statement) }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: statement)) ?? [])
            .filter { $0.hasPrefix("audit-") && $0.hasSuffix("-summary.csv") }
        guard names.count == 1, let name = names.first else {
            throw AuditVerificationError(
                statement, line: nil, "holds \(names.count) audit-*-summary.csv file(s); name the one to verify",
                names.isEmpty ? .inputMissing : .usage)
        }
        return URL(fileURLWithPath: statement).appendingPathComponent(name)
    }
}

/// `ledger audit-keygen`: a new Ed25519 key pair for signing audit statements.
struct AuditKeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit-keygen",
        abstract: "Create an Ed25519 key pair for signing audit statements.",
        discussion: """
            Writes DIR/audit-signing-key (mode 0600; the operator keeps it: `ledger audit --signing-key`) and \
            DIR/audit-signing-key.pub (for auditors: `ledger audit-verify --public-key`). Never replaces an \
            existing key. Needs no database.
            """)

    @OptionGroup var options: GlobalOptions
    @Option(name: .long, help: "The directory to write the key pair into (created if missing).") var out: String

    struct Summary: Encodable {
        let signingKeyFile: String
        let publicKeyFile: String
        let publicKey: String
    }

    static let privateName = "audit-signing-key"
    static let publicName = "audit-signing-key.pub"

    func run() throws {
        try Runner.run("ledger audit-keygen", options: options, lock: false) {
            let directory = URL(fileURLWithPath: out)
            let privateURL = directory.appendingPathComponent(Self.privateName)
            let publicURL = directory.appendingPathComponent(Self.publicName)
            for url in [privateURL, publicURL] where FileManager.default.fileExists(atPath: url.path) {
                throw AuditKeyError(path: url.path, "already exists; a key is never replaced", .usage)
            }
            let key = AuditSigningKey()
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                guard FileManager.default.createFile(
                    atPath: privateURL.path, contents: Data(key.fileText.utf8),
                    attributes: [.posixPermissions: 0o600])
                else { throw CocoaError(.fileWriteUnknown) }
                try Data(key.publicKey.fileText.utf8).write(to: publicURL, options: .withoutOverwriting)
            } catch {
                throw AuditKeyError(path: directory.path, "cannot write the key pair: \(error.localizedDescription)", .io)
            }
            return StageOutcome(
                summary: Summary(signingKeyFile: privateURL.path, publicKeyFile: publicURL.path,
                                 publicKey: key.publicKey.hex),
                human: ["signing key \(privateURL.path) (keep it secret)",
                        "public key \(publicURL.path): \(key.publicKey.hex)"])
        }
    }
}
