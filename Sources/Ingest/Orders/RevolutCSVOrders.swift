import Ledger

/// Which CSV column holds each order field. Built in for the three Revolut report types; a caller may
/// pass its own for a layout we have not seen (revolut.md 5.3: the dashboard export is undocumented).
public struct RevolutCSVColumnMapping: Sendable, Hashable, Codable {
    /// Column of the Revolut order id.
    public var orderID: String
    /// Column of the order or transaction type.
    public var type: String
    /// Column of the state.
    public var state: String
    /// Column of the amount, decimal major units.
    public var amount: String
    /// Column of the ISO 4217 currency code.
    public var currency: String
    /// Column of our reference, if any.
    public var merchantReference: String?
    /// Column of the original order of a refund or chargeback, if any.
    public var relatedOrderID: String?
    /// Column of the creation time, if any.
    public var createdAt: String?
    /// Column of the last update time, if any.
    public var updatedAt: String?
    /// Column of the organisation id (e.g. `metadata.organisation_id`), if any.
    public var organisationID: String?
    /// Column of the package id (e.g. `metadata.package_id`), if any.
    public var packageID: String?

    /// A mapping naming the columns of an unknown layout.
    public init(
        orderID: String, type: String, state: String, amount: String, currency: String,
        merchantReference: String? = nil, relatedOrderID: String? = nil, createdAt: String? = nil,
        updatedAt: String? = nil, organisationID: String? = nil, packageID: String? = nil
    ) {
        self.orderID = orderID
        self.type = type
        self.state = state
        self.amount = amount
        self.currency = currency
        self.merchantReference = merchantReference
        self.relatedOrderID = relatedOrderID
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.organisationID = organisationID
        self.packageID = packageID
    }

    /// `settlement_report`: `original_order_id` names the refunded order (equal to `order_id` for
    /// settlements, so it is only kept when different).
    public static let settlementReport = RevolutCSVColumnMapping(
        orderID: "order_id", type: "type", state: "state", amount: "amount", currency: "currency",
        merchantReference: "merchant_order_ext_ref", relatedOrderID: "original_order_id",
        createdAt: "started_date", updatedAt: "updated_date")

    /// `payments_report`: one row per payment attempt; refunds name the original payment, not order.
    public static let paymentsReport = RevolutCSVColumnMapping(
        orderID: "order_id", type: "type", state: "state", amount: "amount", currency: "currency",
        merchantReference: "merchant_order_ext_ref", createdAt: "created_date", updatedAt: "captured_date")

    /// `custom_report`, including the `metadata.<key>` columns when they were requested.
    public static let customReport = RevolutCSVColumnMapping(
        orderID: "order_id", type: "type", state: "state", amount: "amount", currency: "currency",
        merchantReference: "merchant_order_ext_ref", relatedOrderID: "original_order_id",
        createdAt: "created_date", updatedAt: "updated_date", organisationID: "metadata.organisation_id",
        packageID: "metadata.package_id")

    var required: [String] { [orderID, type, state, amount, currency] }
}

/// Reads Revolut report CSVs into order observations, converting decimal major units exactly
/// (`Money.parse(major:currency:)`; `9.99` GBP is 999, `1500` JPY is 1500, `1500.5` JPY is refused).
struct RevolutCSVOrders {
    let displayName: String
    let limits: IngestLimits

    /// Picks the layout from the header: report type by its distinctive columns, or the override.
    func layout(header: CSVRecord, override: RevolutCSVColumnMapping?) throws(InputError)
        -> (RevolutOrderFileFormat, RevolutCSVColumnMapping)
    {
        let names = Set(header.fields)
        try checkHeader(header)
        let detected: (RevolutOrderFileFormat, RevolutCSVColumnMapping)
        if let override {
            detected = (.mappedCSV, override)
        } else if names.contains("related_transaction_id") || names.contains("legacy_type") {
            detected = (.customReport, .customReport)
        } else if names.contains("payment_id") {
            detected = (.paymentsReport, .paymentsReport)
        } else if names.contains("transaction_id") {
            detected = (.settlementReport, .settlementReport)
        } else {
            throw fileError(.csvLayoutUnrecognised, header.line, "the header names no Revolut report we know "
                + "(settlement_report, payments_report, custom_report); pass a column mapping")
        }
        for column in detected.1.required where !names.contains(column) {
            throw fileError(.csvLayoutUnrecognised, header.line, "the header has no column \(column)")
        }
        return detected
    }

    private func checkHeader(_ header: CSVRecord) throws(InputError) {
        let fields = header.fields
        if fields.count == 1, fields[0].contains(";") {
            throw fileError(.csvDelimiterMustBeComma, header.line, "the header is separated by ';', not ','")
        }
        if fields.count > limits.csvColumnsMax {
            throw fileError(
                .csvLayoutUnrecognised, header.line,
                "\(fields.count) columns is more than csvColumnsMax (\(limits.csvColumnsMax))")
        }
        if let first = fields.first, looksLikeData(first) {
            throw fileError(.csvHeaderMissing, header.line, "the first line is data (\(first)), not a header row")
        }
        var seen: Set<String> = []
        for name in fields where !seen.insert(name).inserted {
            throw fileError(.csvHeaderDuplicate, header.line, "column \(name) appears more than once")
        }
    }

    /// A UUID or a number where a column name should be.
    private func looksLikeData(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        let isUUID = bytes.count == 36 && bytes.allSatisfy { $0 == 0x2D || isHex($0) }
        return isUUID || (!bytes.isEmpty && bytes.allSatisfy { JSONBytes.isDigit($0) || $0 == 0x2E })
    }

    private func isHex(_ byte: UInt8) -> Bool {
        JSONBytes.isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }

    private func fileError(_ rule: RejectionRule, _ line: Int, _ detail: String) -> InputError {
        .fileRejected(Rejection(rule, file: displayName, line: line, detail: detail))
    }

    /// One data row into an observation or a rejection naming line and column.
    func order(
        _ record: CSVRecord, header: [String], mapping: RevolutCSVColumnMapping, format: RevolutOrderFileFormat
    ) -> RevolutOrderOutcome {
        do throws(Rejection) {
            return .order(try observation(record, header: header, mapping: mapping, format: format))
        } catch {
            return .rejected(error)
        }
    }

    private func observation(
        _ record: CSVRecord, header: [String], mapping: RevolutCSVColumnMapping, format: RevolutOrderFileFormat
    ) throws(Rejection) -> RevolutOrderObservation {
        let raw = Array(record.raw.prefix(limits.rejectRawBytesMax))
        func reject(_ rule: RejectionRule, _ field: String?, _ detail: String) -> Rejection {
            Rejection(rule, file: displayName, line: record.line, field: field, detail: detail, raw: raw)
        }
        guard record.fields.count == header.count else {
            throw reject(.csvWrongColumnCount, nil, "has \(record.fields.count) fields, the header has \(header.count)")
        }
        var row: [String: String] = [:]
        for (name, value) in zip(header, record.fields) { row[name] = value }
        func value(_ column: String?) -> String? {
            guard let column, let text = row[column], !text.isEmpty else { return nil }
            return text
        }
        for column in mapping.required where value(column) == nil {
            throw reject(.fieldMissing, column, "required value is empty")
        }
        let amount = try money(value(mapping.amount) ?? "", code: value(mapping.currency) ?? "", mapping, reject)
        let orderID = value(mapping.orderID) ?? ""
        let related = value(mapping.relatedOrderID).flatMap { $0 == orderID ? nil : $0 }
        let times = TimestampFields(file: displayName, line: record.line, raw: raw)
        return RevolutOrderObservation(
            orderID: orderID, type: .init(normalising: value(mapping.type) ?? ""),
            state: .init(normalising: value(mapping.state) ?? ""), amount: amount,
            merchantReference: value(mapping.merchantReference), organisationID: value(mapping.organisationID),
            packageID: value(mapping.packageID), relatedOrderID: related,
            createdAt: try times.instant(value(mapping.createdAt), field: mapping.createdAt ?? ""),
            updatedAt: try times.instant(value(mapping.updatedAt), field: mapping.updatedAt ?? ""),
            format: Self.observationFormat(format), source: SourcePosition(file: displayName, line: record.line))
    }

    private func money(
        _ text: String, code: String, _ mapping: RevolutCSVColumnMapping,
        _ reject: (RejectionRule, String?, String) -> Rejection
    ) throws(Rejection) -> Money {
        guard let currency = Currency(code: code) else {
            throw reject(
                .currencyMustBeISO4217, mapping.currency, "\"\(code)\" is not an active upper-case ISO 4217 code")
        }
        switch Money.parse(major: text, currency: currency) {
        case .success(let money): return money
        case .failure(.tooManyDecimalPlaces(let allowed)):
            throw reject(
                .amountTooManyDecimalPlaces, mapping.amount,
                "\"\(text)\" has more than \(allowed) decimal places for \(currency.code)")
        case .failure(.outOfRange):
            throw reject(.amountOutOfRange, mapping.amount, "\"\(text)\" is out of range")
        case .failure(.notADecimal):
            throw reject(.amountMalformed, mapping.amount, "\"\(text)\" is not a plain decimal\(commaHint(text))")
        }
    }

    private func commaHint(_ text: String) -> String {
        guard text.contains(",") else { return "" }
        return text.contains(".") ? " (thousands separator?)" : " (decimal comma? write 1.50, not 1,50)"
    }

    static func observationFormat(_ format: RevolutOrderFileFormat) -> RevolutOrderObservation.SourceFormat {
        switch format {
        case .settlementReport: .settlementReport
        case .paymentsReport: .paymentsReport
        case .customReport: .customReport
        default: .mappedCSV
        }
    }
}
