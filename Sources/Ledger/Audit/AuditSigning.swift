import Crypto
import Foundation

/// The operator's Ed25519 key that signs audit statements (`credits ledger audit --signing-key FILE`,
/// docs/LEDGER.md "Signed audit statements"). What is signed is the statement's digest
/// (`AuditStatementSignature.message(digest:)`), so the same signature holds for the CSV, the XLSX and
/// the GraphQL summary of one statement.
///
/// Key file (written by `credits ledger audit-keygen`, mode 0600): two lines,
///
///     credits-audit-signing-key v1 ed25519
///     <64 hex digits: the 32-byte private key>
public struct AuditSigningKey: Sendable {
    /// The 32-byte private key (swift-crypto's key types are not Sendable).
    private let raw: [UInt8]
    private var key: Curve25519.Signing.PrivateKey {
        do { return try Curve25519.Signing.PrivateKey(rawRepresentation: raw) } catch {
            preconditionFailure("checked when the key was made: \(error)")
        }
    }

    public static let header = "credits-audit-signing-key v1 ed25519"

    /// A new random key.
    public init() { raw = Array(Curve25519.Signing.PrivateKey().rawRepresentation) }

    /// Reads a key file; errors name the file and the line.
    public init(contentsOf path: String) throws(AuditKeyError) {
        let raw = try AuditKeyFile.read(path: path, header: Self.header)
        guard (try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)) != nil else {
            throw AuditKeyError(path: path, line: 2, "not an Ed25519 private key (32 bytes)", .badData)
        }
        self.raw = raw
    }

    public var publicKey: AuditPublicKey { AuditPublicKey(raw: Array(key.publicKey.rawRepresentation)) }

    /// The key file's text (keep it secret).
    public var fileText: String { Self.header + "\n" + Hex.string(raw) + "\n" }

    /// Signs a statement digest. Ed25519 as swift-crypto implements it on Linux (BoringSSL) is
    /// deterministic, so a rerun over the same ledger with the same key writes the same signature.
    public func sign(digest: String) -> AuditStatementSignature {
        let signature: Data
        do { signature = try key.signature(for: Data(AuditStatementSignature.message(digest: digest).utf8)) } catch {
            preconditionFailure("Ed25519 signing cannot fail for a valid key: \(error)")
        }
        return AuditStatementSignature(signature: Array(signature), publicKey: publicKey)
    }
}

/// The public half of an `AuditSigningKey`, which an auditor holds to check statements.
///
/// Public key file: `credits-audit-public-key v1 ed25519` then 64 hex digits (the 32-byte key).
public struct AuditPublicKey: Sendable, Hashable {
    /// The 32-byte public key.
    let raw: [UInt8]
    private var key: Curve25519.Signing.PublicKey {
        do { return try Curve25519.Signing.PublicKey(rawRepresentation: raw) } catch {
            preconditionFailure("checked when the key was made: \(error)")
        }
    }

    public static let header = "credits-audit-public-key v1 ed25519"

    init(raw: [UInt8]) { self.raw = raw }

    /// Reads a public key file; errors name the file and the line.
    public init(contentsOf path: String) throws(AuditKeyError) {
        let raw = try AuditKeyFile.read(path: path, header: Self.header)
        guard let key = AuditPublicKey(hex: Hex.string(raw)) else {
            throw AuditKeyError(path: path, line: 2, "not an Ed25519 public key (32 bytes)", .badData)
        }
        self = key
    }

    /// From the 64 hex digits a statement's summary carries.
    public init?(hex: String) {
        guard let raw = Hex.bytes(hex), (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil else {
            return nil
        }
        self.raw = raw
    }

    public var hex: String { Hex.string(raw) }
    public var fileText: String { Self.header + "\n" + hex + "\n" }

    /// Whether `signature` (raw 64 bytes) is this key's signature of `digest`.
    public func isValidSignature(_ signature: [UInt8], digest: String) -> Bool {
        key.isValidSignature(signature, for: Data(AuditStatementSignature.message(digest: digest).utf8))
    }
}

/// A statement's signature: Ed25519 over `message(digest:)`, with the public key that made it (for the
/// reader's information only; a verifier checks against the key it was given, never this one).
public struct AuditStatementSignature: Sendable, Hashable {
    public let signature: [UInt8]
    public let publicKey: AuditPublicKey

    /// The signed bytes: this prefix and the digest's 64 hex digits, UTF-8, no newline.
    public static func message(digest: String) -> String { "credits-audit-statement-digest v1 " + digest }

    /// 128 hex digits.
    public var hex: String { Hex.string(signature) }

    /// The bytes of a signature written as hex digits, or nil.
    public static func bytes(hex: String) -> [UInt8]? { Hex.bytes(hex) }

    public init(signature: [UInt8], publicKey: AuditPublicKey) {
        self.signature = signature
        self.publicKey = publicKey
    }
}

/// A key file that cannot be used, naming the file and (if the content is wrong) the line.
public struct AuditKeyError: ClassifiedError, Equatable {
    public let path: String
    public let line: Int?
    public let reason: String
    public let failureClass: FailureClass

    public init(path: String, line: Int? = nil, _ reason: String, _ failureClass: FailureClass) {
        self.path = path
        self.line = line
        self.reason = reason
        self.failureClass = failureClass
    }

    public var description: String { "\(path)\(line.map { ":\($0)" } ?? ""): \(reason)" }
}

enum AuditKeyFile {
    /// The 32 bytes of a two-line key file whose first line is `header`.
    static func read(path: String, header: String) throws(AuditKeyError) -> [UInt8] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            let missing = !FileManager.default.fileExists(atPath: path)
            throw AuditKeyError(path: path, missing ? "no such key file" : "cannot read: \(error.localizedDescription)",
                                missing ? .inputMissing : .io)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw AuditKeyError(path: path, line: 1, "not UTF-8 text", .badData)
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard lines.first == header else {
            throw AuditKeyError(path: path, line: 1, "expected the line `\(header)`", .badData)
        }
        guard lines.count >= 2, let raw = Hex.bytes(lines[1]), raw.count == 32 else {
            throw AuditKeyError(path: path, line: 2, "expected 64 hex digits (32 bytes)", .badData)
        }
        guard lines.dropFirst(2).allSatisfy(\.isEmpty) else {
            throw AuditKeyError(path: path, line: 3, "unexpected text after the key", .badData)
        }
        return raw
    }
}

/// Lower-case hexadecimal.
enum Hex {
    static func string(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return out
    }

    static func bytes(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            case 0x41...0x46: c - 0x41 + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}
