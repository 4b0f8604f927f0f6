/// What a Revolut order paid for: the organisation, package, credits and price the ledger credits for
/// it. The webhook (live) and reconcile's payments match (batch) both ask `LedgerReader.orderSale`, so
/// an order is tied, priced and refused by one rule whichever path sees it first.
public struct OrderSale: Sendable, Hashable {
    public let organisationID: String
    public let packageID: String
    public let credits: Credits
    /// What was agreed: the purchase's price, else the package's price in the organisation's currency.
    public let price: Money
    /// The package's validity; nil when its credits do not expire.
    public let expiresAfterDays: Int?
}

/// Why an order cannot be tied to a sale. Each case is the reconcile finding of the same name, and
/// the webhook's reason to leave the order for review instead of crediting it.
public enum OrderSaleProblem: Error, Sendable, Hashable {
    /// No purchase with the order's reference or id, and no `organisation_id`/`package_id` metadata.
    case notTied(reference: String?)
    /// The purchase the reference names was paid by another order: it does not vouch for this one.
    case purchaseOfAnotherOrder(reference: String, paidBy: String)
    case unknownOrganisation(String)
    case unknownPackage(organisationID: String, packageID: String)
    /// The package has no price in the organisation's currency.
    case noPriceInCurrency(organisationID: String, packageID: String, currency: Currency)
}

/// Where `orderSale` reads organisations and packages: the ledger itself, or a cache over it for a
/// run that ties many orders (reconcile's payments match reads each once).
public protocol SaleCatalogue {
    func organisation(_ id: String) throws -> Organisation?
    func creditPackage(_ id: String) throws -> CreditPackage?
}

extension LedgerReader: SaleCatalogue {}

/// A `SaleCatalogue` that reads each organisation and package from the ledger once.
public final class CachedSaleCatalogue: SaleCatalogue {
    private let reader: LedgerReader
    private var organisations: [String: Organisation?] = [:]
    private var packages: [String: CreditPackage?] = [:]

    public init(reader: LedgerReader) {
        self.reader = reader
    }

    public func organisation(_ id: String) throws -> Organisation? {
        if let cached = organisations[id] { return cached }
        let read = try reader.organisation(id)
        organisations[id] = read
        return read
    }

    public func creditPackage(_ id: String) throws -> CreditPackage? {
        if let cached = packages[id] { return cached }
        let read = try reader.creditPackage(id)
        packages[id] = read
        return read
    }
}

extension LedgerReader {
    /// Ties an order to what was sold (`OrderSale.of`), reading its purchase and the configuration from
    /// the ledger.
    public func orderSale(
        orderID: String, merchantReference: String?, metadataOrganisationID: String?, metadataPackageID: String?
    ) throws -> Result<OrderSale, OrderSaleProblem> {
        try OrderSale.of(
            orderID: orderID, merchantReference: merchantReference,
            purchase: try purchase(revolutOrderID: orderID, orElseReference: merchantReference),
            metadataOrganisationID: metadataOrganisationID, metadataPackageID: metadataPackageID, catalogue: self)
    }
}

extension OrderSale {
    /// Ties an order to what was sold. The purchase we recorded when creating the order decides (the
    /// one attached to the order, else the one our reference names; the caller reads it); a purchase
    /// already attached to another order is refused. Without a purchase, the order's metadata names
    /// the organisation and package, priced at the package's current price in the organisation's
    /// currency. A package missing from the configuration is refused on every path (the credits'
    /// expiry would be unknown).
    public static func of(
        orderID: String, merchantReference: String?, purchase: Purchase?, metadataOrganisationID: String?, metadataPackageID: String?,
        catalogue: some SaleCatalogue
    ) throws -> Result<OrderSale, OrderSaleProblem> {
        if let purchase, let attached = purchase.revolutOrderID, attached != orderID {
            return .failure(.purchaseOfAnotherOrder(reference: purchase.reference, paidBy: attached))
        }
        guard let organisationID = purchase?.organisationID ?? metadataOrganisationID,
            let packageID = purchase?.packageID ?? metadataPackageID
        else { return .failure(.notTied(reference: merchantReference)) }
        guard let organisation = try catalogue.organisation(organisationID) else {
            return .failure(.unknownOrganisation(organisationID))
        }
        guard let package = try catalogue.creditPackage(packageID) else {
            return .failure(.unknownPackage(organisationID: organisationID, packageID: packageID))
        }
        guard let price = purchase?.price ?? package.price(in: organisation.currency) else {
            return .failure(.noPriceInCurrency(
                organisationID: organisationID, packageID: packageID, currency: organisation.currency))
        }
        return .success(OrderSale(
            organisationID: organisationID, packageID: packageID, credits: purchase?.credits ?? package.credits,
            price: price, expiresAfterDays: package.expiresAfterDays))
    }
}
