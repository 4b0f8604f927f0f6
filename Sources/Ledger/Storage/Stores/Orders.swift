import GRDB

/// One view of a Revolut order as some source showed it (API export, report CSV, webhook fetch).
public struct OrderObservation: Sendable, Hashable {
    /// Payment, refund, chargeback, ... (the one `RevolutOrderType` vocabulary).
    public var orderType: RevolutOrderType
    public var orderID: String
    /// The order's state (the one `RevolutOrderState` vocabulary).
    public var state: RevolutOrderState
    public var amount: Money
    /// Our reference (`merchant_order_data.reference`, legacy and CSV `merchant_order_ext_ref`).
    public var merchantReference: String?
    /// From the order's metadata, when present.
    public var organisationID: String?
    public var packageID: String?
    /// For refunds and chargebacks: the order they refer to.
    public var relatedOrderID: String?
    public var createdAt: Instant?
    public var updatedAt: Instant?
    /// `api`, `legacy_api`, `settlement_csv`, `payments_csv`, `custom_csv`, `webhook`.
    public var source: String
    public var sourceFile: String
    public var sourceLine: Int

    public init(
        orderType: RevolutOrderType, orderID: String, state: RevolutOrderState, amount: Money, merchantReference: String? = nil,
        organisationID: String? = nil, packageID: String? = nil, relatedOrderID: String? = nil,
        createdAt: Instant? = nil, updatedAt: Instant? = nil, source: String, sourceFile: String, sourceLine: Int
    ) {
        self.orderType = orderType
        self.orderID = orderID
        self.state = state
        self.amount = amount
        self.merchantReference = merchantReference
        self.organisationID = organisationID
        self.packageID = packageID
        self.relatedOrderID = relatedOrderID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.source = source
        self.sourceFile = sourceFile
        self.sourceLine = sourceLine
    }

    /// The content that makes two observations the same view: everything but where it was read.
    var contentHash: String {
        ContentHash.of([
            orderID, orderType.word, state.word, "\(amount.minorUnits)", amount.currency.code, merchantReference ?? "-",
            organisationID ?? "-", packageID ?? "-", relatedOrderID ?? "-",
            createdAt.map { "\($0.millisecondsSinceEpoch)" } ?? "-", updatedAt.map { "\($0.millisecondsSinceEpoch)" } ?? "-",
            source,
        ])
    }
}

/// One Revolut order as the payments match reads it (`LedgerReader.forEachOrder`): its views, the
/// top-up that credited it, and the purchase that ties it (the one attached to the order, else the one
/// its reference names: what `LedgerReader.purchase(revolutOrderID:orElseReference:)` finds).
public struct ObservedOrder: Sendable {
    /// Oldest first (by update time, views without one last, then arrival); never empty.
    public let views: [OrderObservation]
    public let topUp: OrderTopUp?
    public let purchase: Purchase?
}

/// The top-up that credited an order: its transfer, credits and when it was recorded.
public struct OrderTopUp: Sendable, Hashable {
    public let transferID: Int64
    public let credits: Credits
    public let recordedAt: Instant
}

/// An order we created through the live path.
public struct Purchase: Sendable, Hashable, Codable {
    public var reference: String
    public var organisationID: String
    public var packageID: String
    public var credits: Credits
    public var price: Money
    public var revolutOrderID: String?
    public var checkoutURL: String?
    public var createdAt: Instant

    public init(
        reference: String, organisationID: String, packageID: String, credits: Credits, price: Money,
        revolutOrderID: String? = nil, checkoutURL: String? = nil, createdAt: Instant
    ) {
        self.reference = reference
        self.organisationID = organisationID
        self.packageID = packageID
        self.credits = credits
        self.price = price
        self.revolutOrderID = revolutOrderID
        self.checkoutURL = checkoutURL
        self.createdAt = createdAt
    }
}

extension LedgerTransaction {
    /// Records order observations; returns for each whether it was new (`true`) or an exact
    /// repeat of a view already recorded (`false`).
    public func observe(_ observations: [OrderObservation]) throws -> [Bool] {
        let sql = try self.sql
        return try observations.map { observation in
            try sql.run("""
                INSERT INTO revolut_order_observations (observation_hash, order_id, order_type, state, amount_minor,
                    currency, merchant_reference, organisation_id, package_id, related_order_id, created_at, updated_at,
                    source, source_file, source_line, observed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (observation_hash) DO NOTHING
                """) { row in
                row.add(observation.contentHash)
                row.add(observation.orderID)
                row.add(observation.orderType.word)
                row.add(observation.state.word)
                row.add(observation.amount.minorUnits)
                row.add(observation.amount.currency.code)
                row.add(observation.merchantReference)
                row.add(observation.organisationID)
                row.add(observation.packageID)
                row.add(observation.relatedOrderID)
                row.add(observation.createdAt?.millisecondsSinceEpoch)
                row.add(observation.updatedAt?.millisecondsSinceEpoch)
                row.add(observation.source)
                row.add(observation.sourceFile)
                row.add(Int64(observation.sourceLine))
                row.add(now.millisecondsSinceEpoch)
            } == 1
        }
    }

    /// Records a purchase before its Revolut order exists, so a crash between creating the order
    /// and recording it can be recovered by looking the order up by reference.
    public func recordPurchase(_ purchase: Purchase) throws {
        try sql.run("""
            INSERT INTO purchases (reference, organisation_id, package_id, credits, price_minor, currency,
                revolut_order_id, checkout_url, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """) { row in
            row.add(purchase.reference)
            row.add(purchase.organisationID)
            row.add(purchase.packageID)
            row.add(purchase.credits.microcredits)
            row.add(purchase.price.minorUnits)
            row.add(purchase.price.currency.code)
            row.add(purchase.revolutOrderID)
            row.add(purchase.checkoutURL)
            row.add(purchase.createdAt.millisecondsSinceEpoch)
        }
    }

    /// Attaches the Revolut order Revolut created for a purchase.
    public func attachOrder(toPurchase reference: String, orderID: String, checkoutURL: String?) throws {
        try sql.run(
            "UPDATE purchases SET revolut_order_id = ?, checkout_url = ? WHERE reference = ? AND revolut_order_id IS NULL"
        ) { row in
            row.add(orderID)
            row.add(checkoutURL)
            row.add(reference)
        }
    }
}

extension LedgerReader {
    /// Every order, one at a time in order-id order: its observations, each order's oldest view first
    /// (by update time, views without one last, then arrival), its top-up and its purchase. Streamed
    /// through the index by order: memory holds one order's views, not the whole payment history.
    public func forEachOrder(_ body: (ObservedOrder) throws -> Void) throws {
        // Each view with the purchase its reference names; the order's top-up and the purchase attached to
        // it are the same on every view. Read in the one pass, so tying and matching a night's orders asks
        // nothing per order (two round trips each on PostgreSQL).
        var views: [(view: OrderObservation, purchaseOfReference: Purchase?)] = []
        var topUp: OrderTopUp?
        var purchaseOfOrder: Purchase?
        func hand() throws {
            // Views without an update time go after those with one (SQLite sorts NULL first, PostgreSQL last).
            let ordered = views.filter { $0.view.updatedAt != nil } + views.filter { $0.view.updatedAt == nil }
            let byReference = ordered.first { $0.view.merchantReference != nil }?.purchaseOfReference
            try body(ObservedOrder(views: ordered.map(\.view), topUp: topUp, purchase: purchaseOfOrder ?? byReference))
            views.removeAll(keepingCapacity: true)
        }
        let observation = Self.observationColumns.split(separator: ",")
            .map { "o.\($0.trimmingCharacters(in: .whitespacesAndNewlines))" }.joined(separator: ", ")
        try sql.forEachRow(
            """
            SELECT \(observation), t.id, t.amount, t.recorded_at,
                \(Self.purchaseColumns.replacingOccurrences(of: "p.", with: "po.")),
                \(Self.purchaseColumns.replacingOccurrences(of: "p.", with: "pr."))
            FROM revolut_order_observations o
            LEFT JOIN transfers t ON t.kind = 'top_up' AND t.revolut_order_id = o.order_id
            LEFT JOIN purchases po ON po.revolut_order_id = o.order_id
            LEFT JOIN purchases pr ON pr.reference = o.merchant_reference
            ORDER BY o.order_id COLLATE BINARY, o.updated_at, o.id
            """,
            []
        ) { row in
            guard let observation = Self.observation(row) else { return }
            if let first = views.first, first.view.orderID != observation.orderID { try hand() }
            if views.isEmpty {
                topUp = row.int64OrNil(14).map {
                    OrderTopUp(transferID: $0, credits: Credits(microcredits: row.int64(15)),
                               recordedAt: Instant(millisecondsSinceEpoch: row.int64(16)))
                }
                purchaseOfOrder = row.textOrNil(17).map { _ in Self.purchase(row, from: 17) }
            }
            views.append((observation, row.textOrNil(26).map { _ in Self.purchase(row, from: 26) }))
        }
        if !views.isEmpty { try hand() }
    }

    /// The orders some other order (a refund, a chargeback) names as the one it refers to.
    public func ordersNamedByOtherOrders() throws -> Set<String> {
        Set(try sql.strings(
            "SELECT DISTINCT related_order_id FROM revolut_order_observations WHERE related_order_id IS NOT NULL"))
    }

    /// Top-ups effective before `before` that name a Revolut order of which no completed payment
    /// was observed, oldest first: one set-based query, not every top-up read back.
    public func orderTopUpsWithoutCompletedPayment(effectiveBefore before: Instant) throws -> [Transfer] {
        try sql.records(
            """
            \(Self.transferSelect)
            WHERE t.kind = 'top_up' AND t.revolut_order_id IS NOT NULL AND t.effective_at < ?
                AND NOT EXISTS (SELECT 1 FROM revolut_order_observations o
                                WHERE o.order_id = t.revolut_order_id AND o.state = ? AND o.order_type = ?)
            ORDER BY t.id
            """,
            [.integer(before.millisecondsSinceEpoch), .text(RevolutOrderState.completed.word),
             .text(RevolutOrderType.payment.word)]
        ).map { try Self.transfer($0) }
    }

    /// Purchases that no observed order names, neither by our reference nor as the order attached
    /// to the purchase, oldest first.
    public func purchasesWithoutObservedOrder() throws -> [Purchase] {
        try sql.records(
            """
            SELECT \(Self.purchaseColumns) FROM purchases p
            WHERE NOT EXISTS (SELECT 1 FROM revolut_order_observations o WHERE o.merchant_reference = p.reference)
                AND (p.revolut_order_id IS NULL
                     OR NOT EXISTS (SELECT 1 FROM revolut_order_observations o WHERE o.order_id = p.revolut_order_id))
            ORDER BY p.created_at, p.reference COLLATE BINARY
            """, []
        ).map { Self.purchase($0) }
    }

    public func observations(ofOrder orderID: String) throws -> [OrderObservation] {
        try sql.records(
            """
            SELECT \(Self.observationColumns) FROM revolut_order_observations WHERE order_id = ?
            ORDER BY updated_at IS NULL, updated_at, id
            """, [.text(orderID)]
        ).compactMap(Self.observation)
    }

    public func purchase(reference: String) throws -> Purchase? {
        try purchase(revolutOrderID: nil, orElseReference: reference)
    }

    public func purchase(revolutOrderID: String) throws -> Purchase? {
        try purchase(revolutOrderID: revolutOrderID, orElseReference: nil)
    }

    /// The purchase we attached to the order `revolutOrderID`, else the one of our reference `reference`.
    /// Asked for every order a plan ties, and a miss for orders we did not create: one query of both
    /// indexes (a round trip on PostgreSQL), its row read in place only when there is one.
    public func purchase(revolutOrderID: String?, orElseReference reference: String?) throws -> Purchase? {
        try sqlReadingNoBalances.first(
            """
            SELECT \(Self.purchaseColumns) FROM purchases p WHERE p.revolut_order_id = ?1 OR p.reference = ?2
            ORDER BY CASE WHEN p.revolut_order_id = ?1 THEN 0 ELSE 1 END LIMIT 1
            """,
            bind: { $0.add(revolutOrderID); $0.add(reference) }, read: { Self.purchase($0) })
    }

    static let observationColumns = """
        order_type, order_id, state, amount_minor, currency, merchant_reference, organisation_id, package_id,
        related_order_id, created_at, updated_at, source, source_file, source_line
        """

    static func observation(_ row: some SQLColumns) -> OrderObservation? {
        guard let currency = Currency(code: row.text(4)) else { return nil }
        return OrderObservation(
            orderType: RevolutOrderType(normalising: row.text(0)), orderID: row.text(1),
            state: RevolutOrderState(normalising: row.text(2)),
            amount: Money(minorUnits: row.int64(3), currency: currency), merchantReference: row.textOrNil(5),
            organisationID: row.textOrNil(6), packageID: row.textOrNil(7), relatedOrderID: row.textOrNil(8),
            createdAt: row.int64OrNil(9).map(Instant.init(millisecondsSinceEpoch:)),
            updatedAt: row.int64OrNil(10).map(Instant.init(millisecondsSinceEpoch:)), source: row.text(11),
            sourceFile: row.text(12), sourceLine: Int(row.int64(13)))
    }

    static let purchaseColumns = """
        p.reference, p.organisation_id, p.package_id, p.credits, p.price_minor, p.currency, p.revolut_order_id,
        p.checkout_url, p.created_at
        """

    /// Decodes `purchaseColumns`, starting at column `first`.
    static func purchase(_ row: some SQLColumns, from first: Int32 = 0) -> Purchase {
        Purchase(
            reference: row.text(first), organisationID: row.text(first + 1), packageID: row.text(first + 2),
            credits: Credits(microcredits: row.int64(first + 3)),
            price: Money(minorUnits: row.int64(first + 4), currency: Currency(code: row.text(first + 5))!),
            revolutOrderID: row.textOrNil(first + 6), checkoutURL: row.textOrNil(first + 7),
            createdAt: Instant(millisecondsSinceEpoch: row.int64(first + 8)))
    }
}
