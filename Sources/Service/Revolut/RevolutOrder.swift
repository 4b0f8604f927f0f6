import Foundation
import Ledger

/// What we ask Revolut to create when an organisation buys a credit package (revolut.md §2.2).
public struct RevolutOrderRequest: Sendable, Equatable {
    /// The price; sent as `amount` in minor units plus `currency`.
    public let amount: Money
    public let description: String
    /// Our purchase reference: `merchant_order_data.reference`, echoed in webhooks and used to find the
    /// order again when a creation attempt had an uncertain outcome. Must be unique per purchase.
    public let reference: String
    public let organisationID: String
    public let packageID: String

    public init(amount: Money, description: String, reference: String, organisationID: String, packageID: String) {
        self.amount = amount
        self.description = description
        self.reference = reference
        self.organisationID = organisationID
        self.packageID = packageID
    }

    /// The JSON body of `POST /api/orders`.
    func jsonBody() throws -> Data {
        struct Body: Encodable {
            struct MerchantOrderData: Encodable { let reference: String }
            let amount: Int64
            let currency: String
            let description: String
            let merchant_order_data: MerchantOrderData
            let metadata: [String: String]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(Body(
            amount: amount.minorUnits,
            currency: amount.currency.code,
            description: description,
            merchant_order_data: .init(reference: reference),
            metadata: ["organisation_id": organisationID, "package_id": packageID]
        ))
    }
}

/// The fields of a current-API Order (revolut.md §3.1) the service acts on. Both the full order of
/// `GET /api/orders/{id}` and the simplified one of the list decode into it.
public struct RevolutOrder: Sendable, Equatable, Decodable {
    public let id: String
    /// `payment`, `refund`, ..., read by the rule batch ingest shares; an omitted type is `unknown`.
    public let type: RevolutOrderType
    public let state: RevolutOrderState
    public let amountMinorUnits: Int64
    /// The ISO 4217 code as sent (not validated here: see `amount`).
    public let currencyCode: String
    public let outstandingMinorUnits: Int64?
    public let checkoutURL: String?
    /// `merchant_order_data.reference`.
    public let merchantReference: String?
    public let metadata: [String: String]
    /// ISO 8601 as Revolut sent it.
    public let createdAt: String?
    public let updatedAt: String?
    /// For refund orders: the order refunded.
    public let relatedOrderID: String?

    /// The amount as `Money`, or nil when the currency is not an active ISO 4217 code.
    public var amount: Money? {
        Currency(code: currencyCode).map { Money(minorUnits: amountMinorUnits, currency: $0) }
    }

    private enum CodingKeys: String, CodingKey {
        case id, type, state, amount, currency, metadata
        case outstandingAmount = "outstanding_amount"
        case checkoutURL = "checkout_url"
        case merchantOrderData = "merchant_order_data"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case relatedOrderID = "related_order_id"
    }

    private struct MerchantOrderData: Decodable {
        let reference: String?
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        type = RevolutOrderType(normalising: (try container.decodeIfPresent(String.self, forKey: .type) ?? "unknown").lowercased())
        state = RevolutOrderState(normalising: try container.decode(String.self, forKey: .state))
        amountMinorUnits = try container.decode(Int64.self, forKey: .amount)
        currencyCode = try container.decode(String.self, forKey: .currency)
        outstandingMinorUnits = try container.decodeIfPresent(Int64.self, forKey: .outstandingAmount)
        checkoutURL = try container.decodeIfPresent(String.self, forKey: .checkoutURL)
        merchantReference = try container.decodeIfPresent(MerchantOrderData.self, forKey: .merchantOrderData)?.reference
        metadata = try container.decodeIfPresent([String: String].self, forKey: .metadata) ?? [:]
        createdAt = try container.decodeIfPresent(String.self, forKey: .createdAt)
        updatedAt = try container.decodeIfPresent(String.self, forKey: .updatedAt)
        relatedOrderID = try container.decodeIfPresent(String.self, forKey: .relatedOrderID)
    }

    public init(
        id: String, type: RevolutOrderType, state: RevolutOrderState, amountMinorUnits: Int64, currencyCode: String,
        outstandingMinorUnits: Int64? = nil, checkoutURL: String? = nil, merchantReference: String? = nil,
        metadata: [String: String] = [:], createdAt: String? = nil, updatedAt: String? = nil,
        relatedOrderID: String? = nil
    ) {
        self.id = id
        self.type = type
        self.state = state
        self.amountMinorUnits = amountMinorUnits
        self.currencyCode = currencyCode
        self.outstandingMinorUnits = outstandingMinorUnits
        self.checkoutURL = checkoutURL
        self.merchantReference = merchantReference
        self.metadata = metadata
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.relatedOrderID = relatedOrderID
    }
}


/// Why a Revolut call failed, after any retries.
public enum RevolutClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A 4xx other than 404/429: our request is wrong; retrying will not help.
    case rejected(status: Int, code: String?, message: String?)
    /// 404: no such order.
    case notFound
    /// 429 on every attempt.
    case rateLimited
    /// 5xx on every attempt.
    case serverError(status: Int)
    /// No answer within the timeout on every attempt.
    case timedOut
    /// The connection could not be made or broke.
    case connectionFailed(String)
    /// A 2xx whose body was not the JSON we expected.
    case malformedResponse(String)
    /// An order creation may or may not have happened and the lookup by reference could not settle it:
    /// reconcile this reference later, never simply create again.
    case outcomeUnknown(reference: String)
    /// The calling task was cancelled.
    case cancelled

    public var description: String {
        switch self {
        case .rejected(let status, let code, let message):
            "Revolut refused the request (HTTP \(status), \(code ?? "no code")): \(message ?? "no message")"
        case .notFound: "Revolut has no such order"
        case .rateLimited: "Revolut kept answering 429 Too Many Requests"
        case .serverError(let status): "Revolut kept failing (HTTP \(status))"
        case .timedOut: "Revolut did not answer in time"
        case .connectionFailed(let reason): "could not reach Revolut: \(reason)"
        case .malformedResponse(let reason): "unexpected response from Revolut: \(reason)"
        case .outcomeUnknown(let reference): "unknown whether Revolut created the order for reference \(reference)"
        case .cancelled: "cancelled"
        }
    }
}
