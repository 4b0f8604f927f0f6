/// Linear scans that bound how deeply a GraphQL request nests, run before any of GraphQL's recursive code.
///
/// Why: GraphQL's parser recurses once per `{`, `(` and `[`, so a 12 KB document of 4,000 nested
/// selection sets overflowed the thread's stack and killed `credits serve` (issue 15, D1); the depth
/// limit of `GraphQLDocumentAnalysis` only runs on a parsed document, too late. And validation prints a
/// wrongly typed list or object value twice per level for its error message, so a 300-byte literal
/// nested 56 levels deep took minutes (D2). Both costs are set by nesting, which one pass over the bytes
/// measures exactly, in time linear in the length and with no recursion.
///
/// The scans track only what changes the meaning of a bracket (GraphQL strings, block strings and
/// comments; JSON strings) and leave every other syntax error to the parsers, which report it with a
/// location.
enum GraphQLNestingScan {
    /// Refuses a document nested deeper than `maxNesting` brackets of any kind, or holding list or object
    /// values (brackets opened inside an argument or variable-definition list) nested deeper than
    /// `maxValueNesting`.
    static func check(document: String, maxNesting: Int, maxValueNesting: Int) throws(GraphQLLimitViolation) {
        var document = document
        let violation = document.withUTF8 { bytes -> GraphQLLimitViolation? in
            var scan = DocumentScan(maxNesting: maxNesting, maxValueNesting: maxValueNesting)
            do throws(GraphQLLimitViolation) {
                try scan.run(bytes)
                return nil
            } catch {
                return error
            }
        }
        if let violation { throw violation }
    }

    /// Refuses a JSON text whose arrays and objects nest deeper than `maxNesting`. Strings are skipped,
    /// everything else is left to the JSON decoder.
    static func check(json bytes: some Collection<UInt8>, maxNesting: Int) throws(GraphQLLimitViolation) {
        var depth = 0
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == .backslash {
                    escaped = true
                } else if byte == .quote {
                    inString = false
                }
                continue
            }
            switch byte {
            case .quote: inString = true
            case .openBrace, .openBracket:
                depth += 1
                guard depth <= maxNesting else { throw .valueTooDeeplyNested(limit: maxNesting) }
            case .closeBrace, .closeBracket: depth = max(0, depth - 1)
            default: break
            }
        }
    }

    /// One pass over a document's UTF-8 bytes. Every delimiter is ASCII and no byte of a multi-byte
    /// UTF-8 sequence is, so scanning bytes is scanning characters.
    private struct DocumentScan {
        let maxNesting: Int
        let maxValueNesting: Int
        /// The open brackets, innermost last; never longer than `maxNesting`.
        var open: [UInt8] = []
        /// How many of `open` are `(`: inside one, `[` and `{` open list and object values.
        var openParentheses = 0
        /// How many of `open` are value brackets (opened while a `(` was open).
        var openValues = 0

        init(maxNesting: Int, maxValueNesting: Int) {
            self.maxNesting = maxNesting
            self.maxValueNesting = maxValueNesting
            open.reserveCapacity(maxNesting)
        }

        mutating func run(_ bytes: UnsafeBufferPointer<UInt8>) throws(GraphQLLimitViolation) {
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case .hash: index = Self.endOfComment(bytes, from: index)
                case .quote: index = Self.endOfString(bytes, from: index)
                case .openBrace, .openParenthesis, .openBracket: try push(byte)
                case .closeBrace, .closeParenthesis, .closeBracket: pop()
                default: break
                }
                index += 1
            }
        }

        private mutating func push(_ bracket: UInt8) throws(GraphQLLimitViolation) {
            guard open.count < maxNesting else { throw .tooDeeplyNested(limit: maxNesting) }
            if bracket == .openParenthesis {
                openParentheses += 1
            } else if openParentheses > 0 {
                openValues += 1
                guard openValues <= maxValueNesting else { throw .valueTooDeeplyNested(limit: maxValueNesting) }
            }
            open.append(bracket)
        }

        /// Closes the innermost bracket whatever the closer is: a mismatch is a syntax error the parser
        /// reports, and the nesting counted here never exceeds what the parser will see.
        private mutating func pop() {
            guard let bracket = open.popLast() else { return }
            if bracket == .openParenthesis {
                openParentheses -= 1
            } else if openParentheses > 0 {
                openValues -= 1
            }
        }

        /// The index of the line terminator ending the comment that starts at `start` (or the last byte).
        private static func endOfComment(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
            var index = start + 1
            while index < bytes.count, bytes[index] != .lineFeed, bytes[index] != .carriageReturn { index += 1 }
            return index
        }

        /// The index of the last byte of the string or block string starting at `start`. An unterminated
        /// string runs to its line's end (a block string to the document's end); the parser refuses both.
        private static func endOfString(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
            if start + 2 < bytes.count, bytes[start + 1] == .quote, bytes[start + 2] == .quote {
                // A block string: `"""` ... `"""`, where `\"""` is an escaped delimiter.
                var index = start + 3
                while index < bytes.count {
                    if bytes[index] == .backslash, isTripleQuote(bytes, at: index + 1) {
                        index += 4
                    } else if isTripleQuote(bytes, at: index) {
                        return index + 2
                    } else {
                        index += 1
                    }
                }
                return bytes.count
            }
            var index = start + 1
            while index < bytes.count {
                switch bytes[index] {
                case .backslash: index += 2
                case .quote, .lineFeed, .carriageReturn: return index
                default: index += 1
                }
            }
            return bytes.count
        }

        private static func isTripleQuote(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
            index + 2 < bytes.count && bytes[index] == .quote && bytes[index + 1] == .quote
                && bytes[index + 2] == .quote
        }
    }
}

extension UInt8 {
    fileprivate static let quote = UInt8(ascii: "\"")
    fileprivate static let backslash = UInt8(ascii: "\\")
    fileprivate static let hash = UInt8(ascii: "#")
    fileprivate static let lineFeed = UInt8(ascii: "\n")
    fileprivate static let carriageReturn = UInt8(ascii: "\r")
    fileprivate static let openBrace = UInt8(ascii: "{")
    fileprivate static let closeBrace = UInt8(ascii: "}")
    fileprivate static let openParenthesis = UInt8(ascii: "(")
    fileprivate static let closeParenthesis = UInt8(ascii: ")")
    fileprivate static let openBracket = UInt8(ascii: "[")
    fileprivate static let closeBracket = UInt8(ascii: "]")
}
