import Foundation
import Ingest
import Ledger
import Testing

/// Revolut order exports in every format normalise to the same observations.
struct RevolutOrderTests {
    func read(_ name: String, mapping: RevolutCSVColumnMapping? = nil) throws -> RevolutOrderFile {
        try RevolutOrderReader.read(path: Fixtures.path("fixtures/orders/" + name), columnMapping: mapping)
    }

    func orders(_ file: RevolutOrderFile) -> [RevolutOrderObservation] { file.outcomes.compactMap(\.order) }

    @Test("the current list {\"orders\": [...]} reads every order with its line")
    func currentList() throws {
        let file = try read("orders-current.json")
        #expect(file.format == .apiList)
        let all = orders(file)
        #expect(all.count == 8 && file.outcomes.count == 8)
        let first = all[0]
        #expect(first.orderID == "6a0f3c10-1b2e-a4d1-9c3e-0f1a2b3c4d01")
        #expect(first.type == .payment && first.state == .completed)
        #expect(first.amount == Money(minorUnits: 45000, currency: .gbp))
        #expect(first.merchantReference == "cpk_2026_000142")
        #expect(first.organisationID == "met-police" && first.packageID == "pack_10k")
        #expect(first.createdAt == (try Instant.parse("2026-11-01T09:12:03.412Z").get()))
        #expect(first.source.line == 3)
        #expect(first.format == .apiCurrent)
        let refund = try #require(all.first { $0.type == .refund })
        #expect(refund.relatedOrderID == first.orderID)
        #expect(all.contains { $0.type == .chargeback })
        #expect(Set(all.map(\.state)) == [.completed, .pending, .failed, .cancelled, .authorised])
    }

    @Test("the legacy bare array normalises to the same orders as the current list")
    func legacyMatchesCurrent() throws {
        let legacy = try read("orders-legacy.json")
        #expect(legacy.format == .apiArray)
        let current = orders(try read("orders-current.json"))
        let old = orders(legacy)
        #expect(old.allSatisfy { $0.format == .apiLegacy })
        #expect(old.map(\.orderID) == current.map(\.orderID))
        #expect(old.map(\.type) == current.map(\.type))
        #expect(old.map(\.state) == current.map(\.state))
        #expect(old.map(\.amount) == current.map(\.amount))
        #expect(old.map(\.merchantReference) == current.map(\.merchantReference))
    }

    @Test("JSON Lines may mix both generations, one order per line")
    func jsonLines() throws {
        let file = try read("orders.jsonl")
        #expect(file.format == .jsonLines)
        let all = orders(file)
        #expect(all.count == 8)
        #expect(all.map(\.source.line) == Array(1...8))
        #expect(Set(all.map(\.format)) == [.apiCurrent, .apiLegacy])
    }

    @Test("settlement_report: major units converted exactly, refunds point at the original order")
    func settlementReport() throws {
        let file = try read("settlement_report.csv")
        #expect(file.format == .settlementReport)
        let all = orders(file)
        #expect(all.count == 4 && file.outcomes.count == 4)
        #expect(all[0].amount == Money(minorUnits: 45000, currency: .gbp))
        #expect(all[0].relatedOrderID == nil, "a settlement's original_order_id is itself")
        #expect(all[0].type == .payment)
        let refund = try #require(all.first { $0.type == .refund })
        #expect(refund.relatedOrderID == all[0].orderID)
        #expect(refund.amount == Money(minorUnits: 15000, currency: .gbp))
        #expect(all.contains { $0.type == .chargeback && $0.amount == Money(minorUnits: 52000, currency: .eur) })
    }

    @Test("payments_report: a quoted field spanning two lines keeps later line numbers right")
    func paymentsReport() throws {
        let file = try read("payments_report.csv")
        #expect(file.format == .paymentsReport)
        let all = orders(file)
        #expect(all.count == 7)
        #expect(all[0].source.line == 2)
        #expect(all[1].source.line == 4)
        #expect(all.contains { $0.state == .declined })
        #expect(all.contains { $0.state == .processing })
    }

    @Test("custom_report carries metadata.organisation_id and metadata.package_id")
    func customReport() throws {
        let file = try read("custom_report.csv")
        #expect(file.format == .customReport)
        let first = try #require(orders(file).first)
        #expect(first.organisationID == "met-police" && first.packageID == "pack_10k")
    }

    @Test("an unknown layout is refused unless a column mapping is given")
    func columnMapping() throws {
        #expect(throws: InputError.self) { _ = try read("dashboard_statement.csv") }
        let mapping = RevolutCSVColumnMapping(
            orderID: "Order ID", type: "Kind", state: "Status", amount: "Total", currency: "Currency",
            merchantReference: "Reference", createdAt: "Date")
        let file = try read("dashboard_statement.csv", mapping: mapping)
        #expect(file.format == .mappedCSV)
        let all = orders(file)
        #expect(all.count == 3)
        #expect(all[2].amount == Money(minorUnits: 250000, currency: .usd))
        #expect(all[2].state == .pending, "states compare case-insensitively")
    }

    @Test("zero- and three-decimal currencies convert exactly; Int64.max minor units fit, one more does not")
    func currencyExponents() throws {
        let scratch = ScratchDirectory()
        let header = "order_id,type,state,amount,currency,transaction_id\n"
        let csv = header + "a,SETTLEMENT,COMPLETED,1500,JPY,t\nb,SETTLEMENT,COMPLETED,12.345,KWD,t\n"
            + "c,SETTLEMENT,COMPLETED,92233720368547758.07,GBP,t\nd,SETTLEMENT,COMPLETED,92233720368547758.08,GBP,t\n"
        let file = try RevolutOrderReader.read(path: scratch.write("x.csv", csv))
        #expect(file.outcomes[0].order?.amount == Money(minorUnits: 1500, currency: .jpy))
        #expect(file.outcomes[1].order?.amount == Money(minorUnits: 12345, currency: .kwd))
        #expect(file.outcomes[2].order?.amount.minorUnits == Int64.max)
        #expect(file.outcomes[3].rejection?.rule == .amountOutOfRange)
    }

    /// D14: zeros beyond the currency's decimals are exact and accepted; any other digit there is
    /// refused (docs/LEDGER.md), for every exponent.
    @Test("amounts: trailing zeros beyond the currency's decimals are accepted, other digits refused")
    func trailingZeros() throws {
        let scratch = ScratchDirectory()
        let header = "order_id,type,state,amount,currency,transaction_id\n"
        let csv = header + "a,SETTLEMENT,COMPLETED,450.000,GBP,t\nb,SETTLEMENT,COMPLETED,450.001,GBP,t\n"
            + "c,SETTLEMENT,COMPLETED,1500.0,JPY,t\nd,SETTLEMENT,COMPLETED,1500.5,JPY,t\n"
            + "e,SETTLEMENT,COMPLETED,12.3450,KWD,t\n"
        let file = try RevolutOrderReader.read(path: scratch.write("z.csv", csv))
        #expect(file.outcomes[0].order?.amount == Money(minorUnits: 45000, currency: .gbp))
        #expect(file.outcomes[1].rejection?.rule == .amountTooManyDecimalPlaces)
        #expect(file.outcomes[2].order?.amount == Money(minorUnits: 1500, currency: .jpy))
        #expect(file.outcomes[3].rejection?.rule == .amountTooManyDecimalPlaces)
        #expect(file.outcomes[4].order?.amount == Money(minorUnits: 12345, currency: .kwd))
    }

    @Test("unknown states and types are kept, not dropped", arguments: ["IN_SETTLEMENT", "in_settlement"])
    func unknownState(state: String) throws {
        let scratch = ScratchDirectory()
        let order = "{\"id\":\"o1\",\"type\":\"CREDIT_NOTE\",\"state\":\"\(state)\","
            + "\"order_amount\":{\"value\":100,\"currency\":\"GBP\"}}"
        let file = try RevolutOrderReader.read(path: scratch.write("u.json", "[" + order + "]"))
        let observed = try #require(file.outcomes.first?.order)
        #expect(observed.state == .unknown(state))
        #expect(observed.type == .unknown("CREDIT_NOTE"))
    }

    @Test("a single order object is read as one order")
    func singleOrder() throws {
        let scratch = ScratchDirectory()
        let order = "{\n  \"id\": \"o1\", \"type\": \"payment\", \"state\": \"completed\",\n"
            + "  \"amount\": 999, \"currency\": \"GBP\"\n}\n"
        let file = try RevolutOrderReader.read(path: scratch.write("one.json", order))
        #expect(file.outcomes.count == 1)
    }

    @Test("a damaged line in JSON Lines of orders rejects that line only")
    func damagedJSONLine() throws {
        let scratch = ScratchDirectory()
        let good = "{\"id\":\"o1\",\"type\":\"payment\",\"state\":\"completed\",\"amount\":999,\"currency\":\"GBP\"}"
        let file = try RevolutOrderReader.read(path: scratch.write("d.jsonl", "{\"id\":\n" + good + "\n" + good + "\n"))
        #expect(file.format == .jsonLines)
        #expect(file.outcomes.count == 3)
        #expect(file.outcomes[0].rejection?.line == 1)
        #expect(file.outcomes[1].order != nil)
    }

    @Test("gzip order exports are detected by content")
    func gzipOrders() throws {
        let scratch = ScratchDirectory()
        let text = try String(contentsOfFile: Fixtures.path("fixtures/orders/orders-current.json"), encoding: .utf8)
        let file = try RevolutOrderReader.read(path: try scratch.writeGzip("orders.json", Array(text.utf8)))
        #expect(file.isGzip && file.outcomes.count == 8)
    }
}

/// Edge cases from TESTPLAN 6.3 that concern order files.
struct RevolutOrderEdgeTests {
    @Test("trailing blank lines and CRLF in a report CSV are fine")
    func trailingBlankLines() throws {
        let scratch = ScratchDirectory()
        let csv = "order_id,type,state,amount,currency,transaction_id\r\no1,SETTLEMENT,COMPLETED,1.50,GBP,t\r\n\r\n\r\n"
        let file = try RevolutOrderReader.read(path: scratch.write("t.csv", csv))
        #expect(file.outcomes.count == 1)
        #expect(file.outcomes.first?.order?.amount == Money(minorUnits: 150, currency: .gbp))
    }

    @Test("JSON minor units: Int64.max is accepted, one more is rejected, never a crash")
    func jsonAmountRange() throws {
        let scratch = ScratchDirectory()
        func order(_ amount: String) -> String {
            "{\"id\":\"o\",\"type\":\"payment\",\"state\":\"completed\",\"amount\":\(amount),\"currency\":\"GBP\"}"
        }
        let text = order("9223372036854775807") + "\n" + order("9223372036854775808") + "\n" + order("-1e3") + "\n"
        let file = try RevolutOrderReader.read(path: scratch.write("o.jsonl", text))
        #expect(file.outcomes[0].order?.amount.minorUnits == Int64.max)
        #expect(file.outcomes[1].rejection?.field == "amount")
        #expect(file.outcomes[1].rejection?.rule == .amountOutOfRange)
        #expect(file.outcomes[2].rejection?.rule == .fieldWrongType)
    }

    @Test("a field of the wrong type, or a required one absent, is rejected naming its path")
    func fieldRejections() throws {
        let scratch = ScratchDirectory()
        let base = "\"id\":\"o\",\"type\":\"payment\",\"state\":\"completed\""
        let cases: [(json: String, rule: RejectionRule, field: String, detail: String)] = [
            ("{\"id\":7,\"type\":\"payment\",\"state\":\"completed\",\"amount\":1,\"currency\":\"GBP\"}",
             .fieldWrongType, "id", "expected a string"),
            ("{\(base),\"amount\":\"100\",\"currency\":\"GBP\"}", .fieldWrongType, "amount", "expected a whole number"),
            ("{\(base),\"order_amount\":{\"currency\":\"GBP\"}}", .fieldMissing, "order_amount.value",
             "required field is missing"),
            ("{\(base),\"order_amount\":{\"value\":null,\"currency\":\"GBP\"}}", .fieldWrongType,
             "order_amount.value", "expected a whole number"),
            ("{\(base),\"order_amount\":{\"value\":5,\"currency\":false}}", .fieldWrongType,
             "order_amount.currency", "expected a string"),
            ("{\(base),\"amount\":1,\"currency\":\"GBP\",\"metadata\":[]}", .fieldWrongType, "metadata",
             "expected an object"),
            ("{\(base),\"amount\":1,\"currency\":\"GBP\",\"merchant_order_data\":{\"reference\":1}}", .fieldWrongType,
             "merchant_order_data.reference", "expected a string"),
            ("{\"type\":\"payment\",\"state\":\"completed\",\"amount\":1,\"currency\":\"GBP\"}", .fieldMissing, "id",
             "required field is missing"),
            ("42", .fieldWrongType, "", "expected an object"),
        ]
        let file = try RevolutOrderReader.read(path: scratch.write("w.jsonl", cases.map(\.json).joined(separator: "\n") + "\n"))
        #expect(file.outcomes.count == cases.count)
        for (outcome, expected) in zip(file.outcomes, cases) {
            let rejection = try #require(outcome.rejection, "\(expected.json)")
            #expect(rejection.rule == expected.rule, "\(expected.json)")
            #expect(rejection.field == expected.field, "\(expected.json)")
            #expect(rejection.detail == expected.detail, "\(expected.json)")
        }
        // Unknown keys, nulls and escapes are fine.
        let fine = "{\(base),\"amount\":1,\"currency\":\"GBP\",\"extra\":{\"deep\":[1,{\"x\":null}]},"
            + "\"related_order_id\":null,\"merchant_order_data\":{\"reference\":\"r\\u00e9f\"}}"
        let order = try #require(try RevolutOrderReader.read(path: scratch.write("f.jsonl", fine + "\n")).outcomes.first?.order)
        #expect(order.merchantReference == "réf" && order.relatedOrderID == nil)
    }

    @Test("metadata without an organisation or package is kept, not rejected")
    func metadataMissing() throws {
        let scratch = ScratchDirectory()
        let text = "{\"orders\":[{\"id\":\"o\",\"type\":\"payment\",\"state\":\"completed\",\"amount\":100,"
            + "\"currency\":\"GBP\",\"metadata\":{\"user_id\":\"u1\"}}]}"
        let order = try #require(try RevolutOrderReader.read(path: scratch.write("m.json", text)).outcomes.first?.order)
        #expect(order.organisationID == nil && order.packageID == nil && order.merchantReference == nil)
    }
}
