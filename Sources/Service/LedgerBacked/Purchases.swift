import Crypto
import Ledger

/// A credit package as offered to one organisation: priced in its currency.
public struct CreditPackageView: Codable, Sendable {
    public let id: Identifier
    public let name: String
    public let credits: CreditAmount
    /// Nil when the package has no price in the organisation's currency.
    public let price: MoneyView?
}

/// A purchase and its Revolut order.
public struct PurchaseView: Codable, Sendable {
    public let reference: Identifier
    public let organisationId: Identifier
    public let packageId: Identifier
    public let credits: CreditAmount
    public let amount: MoneyView
    public let orderId: Identifier?
    public let checkoutUrl: String?

    init(_ purchase: Purchase) {
        reference = Identifier(purchase.reference)
        organisationId = Identifier(purchase.organisationID)
        packageId = Identifier(purchase.packageID)
        credits = CreditAmount(purchase.credits)
        amount = MoneyView(purchase.price)
        orderId = purchase.revolutOrderID.map { Identifier($0) }
        checkoutUrl = purchase.checkoutURL
    }
}

/// Buying a credit package: record the purchase, create the Revolut order, attach it (issue 6).
///
/// The caller's idempotency key names the purchase: the reference sent to Revolut is derived from the
/// organisation and the key, so a retried mutation finds its purchase again. If the purchase exists
/// without an order (a crash or an unconfirmed creation), the order is looked up by reference before one
/// is created, so a retried purchase creates one order (TESTPLAN F8).
struct PurchaseService: Sendable {
    let ledger: any LiveLedger
    let revolut: any RevolutOrdersAPI
    let now: NowProvider

    /// `cpk_` + 32 hex digits of SHA-256(organisation, key): stable per key, unguessable across organisations.
    static func reference(organisationID: String, idempotencyKey: String) -> String {
        let digest = SHA256.hash(data: Array("\(organisationID)\n\(idempotencyKey)".utf8))
        return "cpk_" + digest.prefix(16).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }

    static func validate(idempotencyKey: String) throws {
        let allowed = idempotencyKey.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: ":"):
                true
            default: false
            }
        }
        guard (1...100).contains(idempotencyKey.utf8.count), allowed else {
            throw UserError(
                UserErrorCode(.idempotencyKeyMalformed), field: .idempotencyKey,
                "idempotencyKey must be 1 to 100 characters of A-Z a-z 0-9 . _ - :")
        }
    }

    func purchase(
        organisationID: String, packageID: String, idempotencyKey: String, by actor: Actor
    ) async throws -> PurchaseView {
        try Self.validate(idempotencyKey: idempotencyKey)
        let reference = Self.reference(organisationID: organisationID, idempotencyKey: idempotencyKey)
        let createdAt = now()
        let (purchase, packageName, isRetry) = try await ledger.write(as: actor) { tx in
            try Self.recordOrFind(
                tx, reference: reference, organisationID: organisationID, packageID: packageID, at: createdAt)
        }
        if purchase.revolutOrderID != nil { return PurchaseView(purchase) }
        let order = try await order(for: purchase, packageName: packageName, lookUpFirst: isRetry)
        let attached = try await ledger.write(as: actor) { tx in
            try tx.attachOrder(toPurchase: reference, orderID: order.id, checkoutURL: order.checkoutURL)
            return try tx.reader.purchase(reference: reference)
        }
        return PurchaseView(attached ?? purchase)
    }

    /// The purchase for `reference`, recorded now if new; refuses a key reused for another package.
    static func recordOrFind(
        _ tx: LedgerTransaction, reference: String, organisationID: String, packageID: String, at createdAt: Instant
    ) throws -> (Purchase, String, Bool) {
        guard let organisation = try tx.reader.organisation(organisationID) else { throw LedgerResolver.notFound }
        guard let package = try tx.reader.creditPackage(packageID) else {
            throw UserError(UserErrorCode(.packageNotFound), field: .packageId, "Credit package not found.")
        }
        if let existing = try tx.reader.purchase(reference: reference) {
            guard existing.packageID == packageID else {
                throw UserError(
                    UserErrorCode(.idempotencyKeyReusedWithDifferentContent), field: .idempotencyKey,
                    "This idempotencyKey was already used to buy another package.")
            }
            return (existing, package.name, true)
        }
        guard let price = package.price(in: organisation.currency) else {
            throw UserError(
                UserErrorCode(.packageNotSoldInCurrency), field: .packageId,
                "This package is not sold in \(organisation.currency.code).")
        }
        let purchase = Purchase(
            reference: reference, organisationID: organisationID, packageID: packageID, credits: package.credits,
            price: price, createdAt: createdAt)
        try tx.recordPurchase(purchase)
        return (purchase, package.name, false)
    }

    private func order(for purchase: Purchase, packageName: String, lookUpFirst: Bool) async throws -> RevolutOrder {
        do {
            if lookUpFirst, let existing = try await revolut.findOrders(reference: purchase.reference).first {
                return existing
            }
            return try await revolut.createOrder(RevolutOrderRequest(
                amount: purchase.price, description: packageName, reference: purchase.reference,
                organisationID: purchase.organisationID, packageID: purchase.packageID))
        } catch .outcomeUnknown {
            throw GraphQLClientError(
                "The payment provider did not confirm the order; retry with the same idempotencyKey.")
        } catch {
            throw GraphQLClientError("The payment provider is unavailable; retry with the same idempotencyKey.", code: .unavailable)
        }
    }
}
