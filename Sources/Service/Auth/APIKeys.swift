import Crypto
import Foundation

/// Who an API key speaks for.
public enum Principal: Sendable, Hashable {
    /// A key of one organisation: it may read and change only that organisation's data.
    case organisation(id: String)
    /// A platform administrator's key: every organisation, plus admin mutations.
    case platformAdmin

    /// Whether this principal may act on `organisationID`. Every resolver and route asks this (I13).
    public func mayAccess(organisationID: String) -> Bool {
        switch self {
        case .platformAdmin: true
        case .organisation(let id): id == organisationID
        }
    }

    /// True for platform-admin keys.
    public var isAdmin: Bool { self == .platformAdmin }
}

/// The SHA-256 of an API key's full text, lower-case hex. The only form in which keys are stored.
public struct APIKeyHash: Sendable, Hashable, CustomStringConvertible {
    /// 64 lower-case hex digits.
    public let hex: String

    public init(hex: String) {
        self.hex = hex
    }

    public var description: String { hex }

    /// The key's public id: the first 16 hex digits of its hash. Audit rows and logs name a key by it;
    /// it reveals nothing of the key, and 64 bits keep ids of different keys apart.
    public var id: String { String(hex.prefix(16)) }
}

/// API keys: `ck_` followed by 32 random bytes in unpadded base64url (43 characters).
///
/// A key is shown once at creation and stored only as its SHA-256. A plain (unsalted) hash is enough
/// because the key carries 256 random bits: nothing can be guessed or looked up in a table.
public enum APIKey {
    public static let prefix = "ck_"
    static let randomByteCount = 32
    static let encodedLength = 43

    /// A new random key and its hash. The key text must be shown to the user and then forgotten.
    public static func generate() -> (key: String, hash: APIKeyHash) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<randomByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let key = prefix + base64URL(bytes)
        return (key, hash(key))
    }

    /// The hash of a presented key, or nil when the text is not shaped like one of our keys, so a
    /// malformed header costs no store lookup.
    public static func hash(presented key: String) -> APIKeyHash? {
        guard isWellFormed(key) else { return nil }
        return hash(key)
    }

    /// Whether `key` is `ck_` + 43 base64url characters.
    public static func isWellFormed(_ key: String) -> Bool {
        guard key.hasPrefix(prefix) else { return false }
        let body = key.utf8.dropFirst(prefix.utf8.count)
        return body.count == encodedLength && body.allSatisfy(isBase64URL)
    }

    static func hash(_ key: String) -> APIKeyHash {
        var key = key
        let digest = key.withUTF8 { SHA256.hash(data: $0) }
        // Every authenticated request hashes its key: write the hex in place, no string per byte.
        let hex = String(unsafeUninitializedCapacity: SHA256.byteCount * 2) { buffer in
            for (index, byte) in digest.enumerated() {
                buffer[2 * index] = hexDigits[Int(byte >> 4)]
                buffer[2 * index + 1] = hexDigits[Int(byte & 0x0f)]
            }
            return SHA256.byteCount * 2
        }
        return APIKeyHash(hex: hex)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func isBase64URL(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            true
        default: false
        }
    }

    private static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// Resolves a key hash to its principal. The ledger-backed store implements this over the `api_keys`
/// table; tests use `InMemoryAPIKeyStore`.
public protocol APIKeyStore: Sendable {
    /// The principal of an active key with this hash, or nil for an unknown or revoked key.
    func principal(for hash: APIKeyHash) async throws -> Principal?
}

/// A fixed set of keys, for tests and for admin keys given on the command line.
public struct InMemoryAPIKeyStore: APIKeyStore {
    private let principals: [APIKeyHash: Principal]

    public init(_ principals: [APIKeyHash: Principal]) {
        self.principals = principals
    }

    public func principal(for hash: APIKeyHash) async throws -> Principal? {
        principals[hash]
    }
}
