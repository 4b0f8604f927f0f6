import Foundation

/// The cursors of the schema's connections: opaque to clients (unpadded base64url of `<kind>:<row id>`),
/// so the row ids behind them can change shape without breaking anyone, and a cursor of one connection
/// is refused by another.
enum PageCursor: String, Sendable {
    case transaction
    case configurationChange
    case auditMovement

    func encode(_ id: Int64) -> String {
        Data("\(rawValue):\(id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The row id `text` names, or a BAD_USER_INPUT error: not a cursor of this connection.
    func decode(_ text: String) throws -> Int64 {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard text.utf8.count <= 64, let data = Data(base64Encoded: base64),
            let decoded = String(data: data, encoding: .utf8), decoded.hasPrefix("\(rawValue):"),
            let id = Int64(decoded.dropFirst(rawValue.count + 1)), id >= 0, encode(id) == text
        else {
            throw GraphQLClientError("after is not a cursor of this list; pass a `cursor` or `endCursor` it returned.")
        }
        return id
    }
}

/// Relay's `PageInfo`. Pages run forwards (`first`/`after`): `hasPreviousPage` is true when the page
/// starts after a cursor, since the cursor's own item comes before it.
public struct PageInfo: Codable, Sendable {
    public let hasNextPage: Bool
    public let hasPreviousPage: Bool
    public let startCursor: String?
    public let endCursor: String?

    /// The page info of a page whose edges carry `cursors`, read with one item more than asked for
    /// (`hasNextPage`), and asked for `after` a cursor or not.
    init(cursors: [String], hasNextPage: Bool, isAfterCursor: Bool) {
        self.hasNextPage = hasNextPage
        hasPreviousPage = isAfterCursor
        startCursor = cursors.first
        endCursor = cursors.last
    }
}
