import Foundation

/// Where a ledger is kept: what `--db` and `$CREDITS_DB` name.
///
/// A file path is a SQLite ledger (the default, unchanged). A `postgres://` or `postgresql://` URL is a
/// PostgreSQL database, in libpq's URI form: `postgresql://user:password@host:port/database?sslmode=require`.
/// Anything else that looks like a URL (`scheme://...`) is refused rather than taken as a file name, so a
/// mistyped scheme never creates a file called `mysql:/...`.
public enum StoreLocation: Sendable, Equatable {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// Parses `--db`. Throws `StoreLocationError` (a usage error, 64) for a URL it cannot use.
    public static func parse(_ text: String) throws -> StoreLocation {
        guard let schemeEnd = text.range(of: "://") else { return .sqlite(path: text) }
        let scheme = text[..<schemeEnd.lowerBound]
        // Only a plausible scheme makes this a URL; `./odd://name` stays a (strange) file path.
        let isScheme = !scheme.isEmpty && scheme.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }
            && scheme.first!.isLetter
        guard isScheme else { return .sqlite(path: text) }
        switch scheme.lowercased() {
        case "postgres", "postgresql":
            return .postgres(try PostgresLocation(parsing: String(text[schemeEnd.upperBound...]), original: text))
        default:
            throw StoreLocationError(
                "--db \(PostgresLocation.redact(text)): unknown scheme '\(scheme)://'; give a SQLite file path or a postgres:// URL")
        }
    }

    /// How it is named in messages: the path, or the URL without its password.
    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let location): location.redacted
        }
    }

    public var isPostgres: Bool {
        if case .postgres = self { true } else { false }
    }
}

/// A `--db` URL that cannot be used: a usage error (exit 64), refused before anything is opened.
public struct StoreLocationError: ClassifiedError, Equatable {
    public let message: String
    init(_ message: String) { self.message = message }
    public var failureClass: FailureClass { .usage }
    public var description: String { message }
}

/// A PostgreSQL database named by a libpq-style URL.
///
/// - user and password: percent-decoded; the user defaults to the login name running the command (as
///   libpq's does), the password to none (trust, peer or a server that asks for none).
/// - host: a name, an IPv4 address or a bracketed IPv6 address (`[::1]`); `localhost` when absent. A host
///   that begins with `/` (in the URL, percent-encoded as `%2F`, or as the `host=` query parameter, as libpq
///   allows) is a Unix socket directory: the socket is `<dir>/.s.PGSQL.<port>`.
/// - port: 5432 unless given (in the authority or as `port=`).
/// - database: the path, percent-decoded; defaults to the user name (as libpq's does).
/// - `sslmode`: `disable`, `prefer` (the default, as libpq's), `require`, `verify-ca` or `verify-full`
///   (libpq's `allow` is refused: it would try without TLS first). `sslrootcert=FILE` names the CA
///   certificates `verify-ca` and `verify-full` trust instead of the system's.
/// - Also accepted: `user`, `password`, `dbname`, `connect_timeout` (seconds), `application_name`.
///   Any other parameter is refused, as libpq refuses it.
public struct PostgresLocation: Sendable, Equatable {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// The socket file itself (`/var/run/postgresql/.s.PGSQL.5432`).
        case unixSocket(path: String)
    }

    public enum SSLMode: String, Sendable, Equatable, CaseIterable {
        case disable
        case prefer
        case require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var user: String
    public var password: String?
    public var endpoint: Endpoint
    public var database: String
    public var sslMode: SSLMode
    public var sslRootCertificate: String?
    public var connectTimeoutSeconds: Int
    public var applicationName: String

    /// The URL without its password, for messages and logs.
    public var redacted: String {
        let userPart = Self.encode(user) + (password == nil ? "" : ":***")
        let hostPart: String
        switch endpoint {
        case .tcp(let host, let port): hostPart = (host.contains(":") ? "[\(host)]" : Self.encode(host)) + ":\(port)"
        case .unixSocket(let path): hostPart = Self.encode(path)
        }
        return "postgresql://\(userPart)@\(hostPart)/\(Self.encode(database))?sslmode=\(sslMode.rawValue)"
    }

    /// The URL with its password, percent-encoded: what `parse` reads back as this location.
    var connectionURL: String {
        let userPart = Self.encode(user) + (password.map { ":" + Self.encode($0) } ?? "")
        var query = "sslmode=\(sslMode.rawValue)"
        let hostPart: String
        switch endpoint {
        case .tcp(let host, let port): hostPart = (host.contains(":") ? "[\(host)]" : Self.encode(host)) + ":\(port)"
        case .unixSocket(let path):
            let directory = (path as NSString).deletingLastPathComponent
            let port = path.split(separator: ".").last.map(String.init) ?? "5432"
            hostPart = ":\(port)"
            query += "&host=" + Self.encode(directory)
        }
        if let sslRootCertificate { query += "&sslrootcert=" + Self.encode(sslRootCertificate) }
        return "postgresql://\(userPart)@\(hostPart)/\(Self.encode(database))?\(query)"
    }

    init(parsing rest: String, original: String) throws {
        let fail: Fail = { why in StoreLocationError("--db \(Self.redact(original)): \(why)") }
        // Split off the query, then the path (the database), leaving the authority.
        var remainder = Substring(rest)
        var query: Substring = ""
        if let mark = remainder.firstIndex(of: "?") {
            query = remainder[remainder.index(after: mark)...]
            remainder = remainder[..<mark]
        }
        if remainder.contains("#") { throw fail("a fragment (#) is not allowed") }
        var authority = remainder
        var path: Substring = ""
        if let slash = remainder.firstIndex(of: "/") {
            authority = remainder[..<slash]
            path = remainder[remainder.index(after: slash)...]
        }
        if path.contains("/") { throw fail("the database name must not contain '/' (percent-encode it as %2F)") }
        var parts = try Self.parseAuthority(authority, fail)
        parts.database = path.isEmpty ? nil : try Self.decode(path, field: "database", fail)
        try Self.parseQuery(query, into: &parts, fail)
        let resolvedUser = (parts.user?.isEmpty == false ? parts.user : nil) ?? Self.loginName()
        guard let resolvedUser, !resolvedUser.isEmpty else { throw fail("no user given and no login name to default to") }
        let resolvedPort = parts.port ?? 5432
        if let host = parts.host, host.hasPrefix("/") {
            if [.require, .verifyCA, .verifyFull].contains(parts.sslMode) {
                throw fail("sslmode=\(parts.sslMode.rawValue) cannot be used over a Unix socket")
            }
            self.endpoint = .unixSocket(path: "\(host.hasSuffix("/") ? String(host.dropLast()) : host)/.s.PGSQL.\(resolvedPort)")
            parts.sslMode = .disable
        } else {
            self.endpoint = .tcp(host: parts.host ?? "localhost", port: resolvedPort)
        }
        self.user = resolvedUser
        self.password = parts.password
        self.database = (parts.database?.isEmpty == false ? parts.database : nil) ?? resolvedUser
        self.sslMode = parts.sslMode
        self.sslRootCertificate = parts.rootCertificate
        self.connectTimeoutSeconds = parts.timeout
        self.applicationName = parts.applicationName
    }

    private typealias Fail = (String) -> StoreLocationError

    /// What the URL says, before defaults that depend on each other are applied.
    private struct Parts {
        var user: String?
        var password: String?
        var host: String?
        var port: Int?
        var database: String?
        var sslMode = SSLMode.prefer
        var rootCertificate: String?
        var timeout = 10
        var applicationName = "credits"
    }

    /// `user:password@host:port`, each part optional; an IPv6 host in brackets.
    private static func parseAuthority(_ authority: Substring, _ fail: Fail) throws -> Parts {
        var parts = Parts()
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let info = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = info.firstIndex(of: ":") {
                parts.user = try decode(info[..<colon], field: "user", fail)
                parts.password = try decode(info[info.index(after: colon)...], field: "password", fail)
            } else {
                parts.user = try decode(info, field: "user", fail)
            }
        }
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw fail("an IPv6 host must be closed with ]") }
            parts.host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected text after the IPv6 host") }
                parts.port = try port(after.dropFirst(), fail)
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            parts.host = try decode(hostPort[..<colon], field: "host", fail)
            parts.port = try port(hostPort[hostPort.index(after: colon)...], fail)
        } else if !hostPort.isEmpty {
            parts.host = try decode(hostPort, field: "host", fail)
        }
        if parts.host?.isEmpty == true { parts.host = nil }
        return parts
    }

    /// `key=value&...`: each known parameter once; any other is refused, as libpq refuses it.
    private static func parseQuery(_ query: Substring, into parts: inout Parts, _ fail: Fail) throws {
        var seen: Set<String> = []
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            guard let equals = pair.firstIndex(of: "=") else { throw fail("query parameter '\(pair)' has no value") }
            let key = try decode(pair[..<equals], field: "parameter", fail)
            let value = try decode(pair[pair.index(after: equals)...], field: key, fail)
            guard seen.insert(key).inserted else { throw fail("parameter '\(key)' is given twice") }
            switch key {
            case "sslmode":
                if value == "allow" { throw fail("sslmode=allow is not supported; use disable, prefer, require or verify-full") }
                guard let mode = SSLMode(rawValue: value) else {
                    throw fail("sslmode '\(value)' is not one of disable, prefer, require, verify-ca, verify-full")
                }
                parts.sslMode = mode
            case "host": parts.host = value.isEmpty ? nil : value
            case "port": parts.port = try port(Substring(value), fail)
            case "user": parts.user = value
            case "password": parts.password = value
            case "dbname": parts.database = value
            case "sslrootcert": parts.rootCertificate = value
            case "application_name": parts.applicationName = value
            case "connect_timeout":
                guard let seconds = Int(value), seconds > 0, seconds <= 3600 else {
                    throw fail("connect_timeout must be 1 to 3600 seconds")
                }
                parts.timeout = seconds
            default:
                throw fail("unknown parameter '\(key)' (known: sslmode, host, port, user, password, dbname, "
                    + "sslrootcert, connect_timeout, application_name)")
            }
        }
    }

    private static func port(_ text: Substring, _ fail: Fail) throws -> Int {
        guard !text.isEmpty, text.allSatisfy(\.isASCII), let value = Int(text), (1...65535).contains(value) else {
            throw fail("port '\(text)' is not a number from 1 to 65535")
        }
        return value
    }

    /// Percent-decodes one component; a malformed escape or bytes that are not UTF-8 are refused.
    private static func decode(
        _ text: Substring, field: String, _ fail: Fail
    ) throws -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    throw fail("malformed percent-escape in the \(field)")
                }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else { throw fail("the \(field) is not UTF-8") }
        if decoded.utf8.contains(0) { throw fail("the \(field) contains a NUL byte") }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// The login name running the command, from the user database (as `Actor.operator` reads it).
    private static func loginName() -> String? {
        guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else { return nil }
        return String(cString: name)
    }

    /// A URL as typed, with any password replaced, for error messages about the URL itself.
    static func redact(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else { return text }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        var redacted = text
        if let at = rest[..<authorityEnd].lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") {
            redacted = String(text[..<rest.index(after: colon)]) + "***" + String(text[at...])
        }
        // A password given as a query parameter is hidden too.
        if let range = redacted.range(of: #"password=[^&]*"#, options: .regularExpression) {
            redacted.replaceSubrange(range, with: "password=***")
        }
        return redacted
    }
}
