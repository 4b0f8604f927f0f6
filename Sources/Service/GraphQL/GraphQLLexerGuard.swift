import GraphQL

/// Refuses, before GraphQL's lexer sees it, a document that ends inside a string with a `\u` escape
/// cut short: GraphQL 4.3.0's lexer (`readString`) reads the four hex digits after `\u` without
/// checking the end of the document, so `{ a(b: "\u1` trapped and took `credits serve` down (found
/// by fuzz-graphql; fixtures/fuzz/graphql/truncated-unicode-escape.doc). It is answered as the lexer
/// answers any other bad escape: a syntax error.
///
/// One pass over the bytes, skipping comments and block strings exactly as `GraphQLNestingScan` does,
/// so only an escape inside a string token is judged.
enum GraphQLLexerGuard {
    static func truncatedEscape(in document: String) -> GraphQLError? {
        let bytes = Array(document.utf8)
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "#"):
                while index < bytes.count, bytes[index] != 0x0A, bytes[index] != 0x0D { index += 1 }
            case UInt8(ascii: "\""):
                if index + 2 < bytes.count, bytes[index + 1] == 0x22, bytes[index + 2] == 0x22 {
                    index = endOfBlockString(bytes, from: index)
                } else {
                    index += 1
                    string: while index < bytes.count {
                        switch bytes[index] {
                        case UInt8(ascii: "\\"):
                            // `\u` needs four more bytes: the lexer reads up to index + 5.
                            if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u"), index + 5 >= bytes.count {
                                return GraphQLError(
                                    message: "Syntax Error: Invalid character escape sequence: the document ends "
                                        + "inside a \\u escape, which needs four hexadecimal digits.")
                            }
                            index += 2
                        case 0x22, 0x0A, 0x0D: break string
                        default: index += 1
                        }
                    }
                }
            default: break
            }
            index += 1
        }
        return nil
    }

    /// The index of the last `"` of the block string starting at `start` (`\"""` is an escaped delimiter).
    private static func endOfBlockString(_ bytes: [UInt8], from start: Int) -> Int {
        func isTripleQuote(_ index: Int) -> Bool {
            index + 2 < bytes.count && bytes[index] == 0x22 && bytes[index + 1] == 0x22 && bytes[index + 2] == 0x22
        }
        var index = start + 3
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\"), isTripleQuote(index + 1) {
                index += 4
            } else if isTripleQuote(index) {
                return index + 2
            } else {
                index += 1
            }
        }
        return bytes.count
    }
}
