import Foundation
import Ledger

public struct ConfigurationChangesArguments: Codable, Sendable {
    public let first: Int?
    /// The `endCursor` of the page already seen: the page continues with older changes.
    public let after: String?
}

/// One configuration change of a page, with the cursor to continue after it.
public struct ConfigurationChangeEdge: Sendable {
    public let cursor: String
    public let node: ConfigurationChangeView
}

/// A page of an organisation's configuration changes, newest first.
public struct ConfigurationChangeConnection: Sendable {
    public let edges: [ConfigurationChangeEdge]
    public let pageInfo: PageInfo
}
