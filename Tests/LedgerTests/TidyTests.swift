import Foundation
import Testing
import TestSupport

/// Goal: keep banned constructs out of the code, as TigerBeetle's tidy.zig does.
/// Binary floating point must never touch an amount; the few files that convert clock time or
/// timeouts through Foundation's `Double`-based APIs are listed with the reason. Libraries never
/// print, read the wall clock outside the clock adapters, or spell an idempotency key themselves;
/// functions stay short except the listed schema text.
@Suite struct TidyTests {
    static let floatAllowed: [String: String] = [
        "Values/Instant.swift": "Foundation's Date is Double seconds; converted once to integer milliseconds",
        "Storage/Process/LedgerDatabase.swift": "GRDB's busy timeout takes seconds as Double",
    ]

    /// Whole words only, so `ExactDecimal` is not mistaken for Foundation's `Decimal`.
    static var banned: [(name: String, pattern: Regex<Substring>)] {
        [("Double", /\bDouble\b/), ("Float", /\bFloat(?:32|64)?\b/), ("Decimal", /\bDecimal\b/),
         ("NSDecimalNumber", /\bNSDecimalNumber\b/)]
    }

    @Test func ledger_hasNoBinaryFloatingPointOnAmounts() throws {
        let root = "\(repositoryRoot)/Sources/Ledger"
        let files = try FileManager.default.subpathsOfDirectory(atPath: root).filter { $0.hasSuffix(".swift") }
        #expect(!files.isEmpty)
        for file in files where Self.floatAllowed[file] == nil {
            let text = try String(contentsOfFile: "\(root)/\(file)", encoding: .utf8)
            for banned in Self.banned where text.contains(banned.pattern) {
                Issue.record(Comment(rawValue: "\(file) uses \(banned.name): amounts must stay exact integers"))
            }
        }
    }

    @Test func canary_theScanFindsABannedWord() {
        // If this fails, the tidy scan above could pass vacuously.
        #expect(Self.banned.contains { "let x: Double = 1".contains($0.pattern) })
        #expect(!Self.banned.contains { "ExactDecimal(significand: 1, scale: 0)".contains($0.pattern) })
    }

    // MARK: - Every module

    /// The modules that are libraries: they report through return values, errors and loggers.
    static let libraries = ["Ledger", "Ingest", "Reconcile", "Reports", "Service"]

    /// The clock adapters: the only places that may read the wall clock.
    static let clockAdapters: Set<String> = [
        "Service/Clock.swift", "Ledger/Storage/Process/LedgerDatabase.swift", "credits/Support/GlobalOptions.swift",
    ]

    /// Functions allowed past `functionLinesMax`, with the reason.
    static let longFunctions: [String: String] = [
        "Ledger/Storage/Schema/Schema.swift:createLedger": "DDL text",
        "Ledger/Storage/Schema/Schema.swift:createConfiguration": "DDL text",
        "Ledger/Storage/Schema/Schema+Staging.swift:createStaging": "DDL text",
        "Service/LedgerBacked/LedgerSchema.swift:make": "the GraphQL schema's declaration",
        "Ledger/Verify/LedgerChecks.swift:checks": "the list of named SQL checks, one statement each (both stores run it)",
    ]
    static let functionLinesMax = 70

    /// Idempotency keys derived for transfers are spelled only in `IdempotencyKey`.
    static var idempotencyKeyLiteral: Regex<Substring> { /"(?:deduction:|top-up:|reversal:|allocation:|expiry:|usage-run:)/ }

    /// Every Swift file under Sources, as (path relative to Sources, lines).
    static func sources() throws -> [(path: String, lines: [Substring])] {
        let root = "\(repositoryRoot)/Sources"
        return try FileManager.default.subpathsOfDirectory(atPath: root).filter { $0.hasSuffix(".swift") }.sorted()
            .map { ($0, try String(contentsOfFile: "\(root)/\($0)", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)) }
    }

    /// Code, not comments: lines that are not `//` or `///` comments.
    static func isCode(_ line: Substring) -> Bool {
        !line.drop { $0 == " " }.hasPrefix("//")
    }

    @Test func libraries_neverPrint() throws {
        for (path, lines) in try Self.sources() where Self.libraries.contains(where: { path.hasPrefix("\($0)/") }) {
            for (number, line) in lines.enumerated() where line.contains("print(") && Self.isCode(line) && line.contains(/\bprint\(/) {
                Issue.record(Comment(rawValue: "Sources/\(path):\(number + 1) prints; a library logs or returns instead"))
            }
        }
    }

    @Test func wallClock_isReadOnlyByTheClockAdapters() throws {
        for (path, lines) in try Self.sources() where !Self.clockAdapters.contains(path) {
            for (number, line) in lines.enumerated() where line.contains("Date()") && Self.isCode(line) && line.contains(/\bDate\(\)/) {
                Issue.record(Comment(rawValue: "Sources/\(path):\(number + 1) reads the wall clock; inject a clock"))
            }
        }
    }

    @Test func idempotencyKeys_areSpelledOnlyInIdempotencyKey() throws {
        for (path, lines) in try Self.sources() where path != "Ledger/Domain/IdempotencyKey.swift" {
            for (number, line) in lines.enumerated() where line.contains(":") && Self.isCode(line) && line.contains(Self.idempotencyKeyLiteral) {
                Issue.record(Comment(rawValue: "Sources/\(path):\(number + 1) spells an idempotency key; use IdempotencyKey"))
            }
        }
    }

    /// Statuses, kinds, severities, codes, states, rules and types are enums whose raw value is the
    /// stored or printed text; a `String` property of one of those names only holds outside text
    /// as given, before the enum that reads it (or a value type's own code).
    static let stringFieldsAllowed: [String: String] = [
        "Ingest/Orders/RevolutCSVOrders.swift:type": "a CSV cell as read; RevolutOrderType reads it",
        "Ingest/Orders/RevolutCSVOrders.swift:state": "a CSV cell as read; RevolutOrderState reads it",
        "Ingest/Orders/RevolutJSONOrders.swift:type": "the JSON member as read; RevolutOrderType reads it",
        "Ingest/Orders/RevolutJSONOrders.swift:state": "the JSON member as read; RevolutOrderState reads it",
        "Ingest/Orders/RevolutJSONOrders.swift:code": "a currency code as read; Currency reads it",
        "Ledger/Configuration/ConfigurationFiles.swift:status": "YAML as read; the loader reads InvestigationStatus",
        "Ledger/Values/Currency.swift:code": "the ISO 4217 code of the Currency value itself",
        "Service/HTTP/ProblemDetails.swift:type": "a problem type URI (RFC 9457), listed in docs/CODES.md",
    ]

    static var stringField: Regex<(Substring, Substring)> {
        /\b(?:var|let)\s+(status|kind|severity|code|state|rule|type)\s*:\s*String\??\s*(?:$|=|\/\/|;|\})/
    }

    @Test func statusKindAndCodeFields_areEnumsNotStrings() throws {
        var found: [(key: String, problem: String)] = []
        for (path, lines) in try Self.sources() {
            for (number, line) in lines.enumerated() where line.contains("String") && Self.isCode(line) {
                guard let match = line.firstMatch(of: Self.stringField) else { continue }
                found.append(("\(path):\(match.output.1)",
                              "Sources/\(path):\(number + 1) holds a \(match.output.1) as String; use an enum whose raw value is the text"))
            }
        }
        Self.check(found, against: Self.stringFieldsAllowed, staleReason: "is no longer a String")
    }

    /// Records each found place whose key is not on `allowed`, and each entry of `allowed` that
    /// nothing found any more (so the allow-list only shrinks).
    static func check(_ found: [(key: String, problem: String)], against allowed: [String: String], staleReason: String) {
        for place in found where allowed[place.key] == nil {
            Issue.record(Comment(rawValue: place.problem))
        }
        for stale in Set(allowed.keys).subtracting(found.map(\.key)).sorted() {
            Issue.record(Comment(rawValue: "\(stale) \(staleReason): take it off the allow-list"))
        }
    }

    @Test func functions_areShortExceptTheListedSchemaText() throws {
        var found: [(key: String, problem: String)] = []
        for (path, lines) in try Self.sources() {
            for function in Self.functionLengths(lines) where function.lines > Self.functionLinesMax {
                found.append(("\(path):\(function.name)",
                              "Sources/\(path):\(function.line) \(function.name) is \(function.lines) lines (max \(Self.functionLinesMax))"))
            }
        }
        Self.check(found, against: Self.longFunctions, staleReason: "is no longer long")
    }

    /// Each `func` or `init` with a body: its name, first line and length in lines, by brace depth
    /// (string literals and trailing comments blanked first).
    static func functionLengths(_ lines: [Substring]) -> [(name: String, line: Int, lines: Int)] {
        var result: [(String, Int, Int)] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            guard line.contains("func") || line.contains("init"), isCode(line), let match = line.firstMatch(of: /\b(?:func\s+([A-Za-z_][A-Za-z0-9_]*)|(init)[?!]?\s*[(<])/) else {
                index += 1
                continue
            }
            let name = String(match.output.1 ?? match.output.2 ?? "")
            var depth = 0
            var opened = false
            var end = index
            scan: while end < lines.count {
                depth += braceBalance(lines[end], opened: &opened)
                if opened && depth <= 0 { break scan }
                if !opened && end > index + 8 { break scan }  // a protocol requirement: no body
                end += 1
            }
            if opened { result.append((name, index + 1, end - index + 1)) }
            index = opened ? end + 1 : index + 1
        }
        return result
    }

    /// `{` minus `}` on a line, outside string literals and after which a `//` comment starts.
    static func braceBalance(_ line: Substring, opened: inout Bool) -> Int {
        var balance = 0
        var inString = false
        var escaped = false
        var previous: Character = " "
        for character in line {
            defer { previous = character }
            if inString {
                if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { inString = false }
                continue
            }
            switch character {
            case "\"": inString = true
            case "/" where previous == "/": return balance
            case "{": balance += 1; opened = true
            case "}": balance -= 1
            default: break
            }
        }
        return balance
    }

    @Test func canary_theCodeScansFindWhatTheyBan() {
        #expect("        print(x)".contains(/\bprint\(/) && !"fingerprint()".contains(/\bprint\(/))
        #expect(#"let key = "deduction:cost-event:\(id)""#.contains(Self.idempotencyKeyLiteral))
        #expect(!Self.isCode("    /// keyed `deduction:cost-event:<id>`"))
        let long = ["func big() {"] + Array(repeating: "    step()", count: 80) + ["}"]
        #expect(Self.functionLengths(long.map { Substring($0) }).first?.lines == 82)
        #expect("    public var status: String".contains(Self.stringField))
        #expect("    let kind: String? // why".contains(Self.stringField))
        #expect("struct Probe { var status: String }".contains(Self.stringField))
        #expect(!"    public var code: String { rawValue }".contains(Self.stringField))
        #expect(!"    public var status: Status".contains(Self.stringField))
    }
}
