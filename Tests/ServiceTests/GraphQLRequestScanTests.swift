import Foundation
import GraphQL
import Testing

@testable import Service

/// Goal: the one-pass reader of common GraphQL request bodies (`GraphQLRequestScan`) gives exactly the
/// `GraphQLRequest` that `JSONDecoder` gives, takes the common bodies, and leaves everything else
/// (including every malformed body) to `JSONDecoder`.
@Suite struct GraphQLRequestScanTests {
    static func decoded(_ body: String) -> GraphQLRequest? {
        try? JSONDecoder().decode(GraphQLRequest.self, from: Data(body.utf8))
    }

    @Test func commonBodies_readAsJSONDecoderReadsThem() {
        let bodies = [
            #"{"query":"{ health }"}"#,
            #"{"query":"query B($org: ID!) { creditBalance(organisationId: $org) { available } }","variables":{"org":"met"}}"#,
            #"{"operationName":"B","variables":{"org":"met","team":"t\/1"},"query":"query B { health }"}"#,
            #"{"query":"{ creditBalance(organisationId: \"met\") { available } }","operationName":null,"variables":null}"#,
            #"{"query":"line\nbreak \t tab \\ \u0041 \u00e9 \ud83e\uddfe","variables":{}}"#,
            " \n{ \"query\" : \"{ health }\" , \"variables\" : { \"a\" : \"\" } }\r\n",
            #"{"qu\u0065ry":"{ health }"}"#,
        ]
        for body in bodies {
            let scanned = GraphQLRequestScan.common(Array(body.utf8))
            #expect(scanned != nil, "\(body)")
            #expect(scanned == Self.decoded(body), "\(body)")
        }
    }

    @Test func otherBodies_areLeftToJSONDecoder() {
        let bodies = [
            // Shapes the scan does not take, though JSONDecoder does.
            #"{"query":"{ health }","variables":{"first":10}}"#,
            #"{"query":"{ health }","variables":{"org":null}}"#,
            #"{"query":"{ health }","variables":{"ids":["a"]}}"#,
            #"{"query":"{ health }","extensions":{}}"#,
            #"{"query":"{ health }","variables":{"org":"Straße"}}"#,
            // Duplicates, refused by the scan whatever JSONDecoder makes of them.
            #"{"query":"{ health }","query":"{ serverTime }"}"#,
            #"{"query":"{ health }","variables":{"a":"1","a":"2"}}"#,
            // Not requests at all, or not JSON.
            #"[{"query":"{ health }"}]"#,
            #"{"variables":{}}"#,
            #"{"query":7}"#,
            #"{"query":"{ health }",}"#,
            #"{"query":"{ health }"} trailing"#,
            #"{"query":"{ health }""#,
            #"{"query":"bad escape \x"}"#,
            #"{"query":"lone surrogate \ud800"}"#,
            #"{"query":"{ health }","operationName":nul}"#,
            "", "{", "null",
        ]
        for body in bodies {
            #expect(GraphQLRequestScan.common(Array(body.utf8)) == nil, "\(body)")
        }
    }
}
