import Testing

@testable import Service

@Suite struct APIKeyTests {
    @Test func testGeneratedKeysAreWellFormedUniqueAndHashed() {
        let first = APIKey.generate()
        let second = APIKey.generate()
        #expect(first.key.hasPrefix("ck_"))
        #expect(first.key.count == 46)
        #expect(APIKey.isWellFormed(first.key))
        #expect(first.key != second.key)
        #expect(first.hash != second.hash)
        #expect(APIKey.hash(presented: first.key) == first.hash)
        #expect(first.hash.hex.count == 64)
        #expect(!first.hash.hex.contains(first.key.dropFirst(3)))
    }

    @Test(arguments: ["", "ck_", "sk_" + String(repeating: "a", count: 43), "ck_" + String(repeating: "a", count: 42),
        "ck_" + String(repeating: "a", count: 44), "ck_" + String(repeating: "a", count: 42) + "=",
        "ck_" + String(repeating: "a", count: 42) + "+"])
    func testMalformedKeysHaveNoHash(key: String) {
        #expect(APIKey.hash(presented: key) == nil)
    }

    @Test func testHashIsSHA256OfTheKeyText() {
        // sha256("ck_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") computed with sha256sum.
        let key = "ck_" + String(repeating: "A", count: 43)
        #expect(APIKey.hash(presented: key)?.hex == "670704c98c73f39e873ec8683357fa5ed42db7c901e4287f6b1dabecb72d5222")
    }

    @Test func testBearerHeaderParsing() {
        let key = APIKey.generate()
        #expect(BearerAuthenticationMiddleware.keyHash(fromAuthorization: "Bearer \(key.key)") == key.hash)
        #expect(BearerAuthenticationMiddleware.keyHash(fromAuthorization: "bearer  \(key.key) ") == key.hash)
        #expect(BearerAuthenticationMiddleware.keyHash(fromAuthorization: "Basic \(key.key)") == nil)
        #expect(BearerAuthenticationMiddleware.keyHash(fromAuthorization: key.key) == nil)
    }

    @Test func testPrincipalAccess() {
        #expect(Principal.organisation(id: "a").mayAccess(organisationID: "a"))
        #expect(!Principal.organisation(id: "a").mayAccess(organisationID: "b"))
        #expect(Principal.platformAdmin.mayAccess(organisationID: "b"))
    }
}

@Suite struct MetricsRegistryTests {
    @Test func testCountersAndHistogramsRender() {
        let registry = MetricsRegistry()
        registry.describe("jobs_total", type: .counter, help: "Jobs.")
        registry.increment("jobs_total", labels: [Label("kind", "a\"b")])
        registry.increment("jobs_total", labels: [Label("kind", "a\"b")], by: 2)
        registry.observe("latency_seconds", labels: [Label("route", "/x")], microseconds: 2_000)
        registry.observe("latency_seconds", labels: [Label("route", "/x")], microseconds: 20_000_000)
        let text = registry.render()
        #expect(text.contains("# HELP jobs_total Jobs.\n# TYPE jobs_total counter\n"))
        #expect(text.contains(#"jobs_total{kind="a\"b"} 3"#))
        #expect(text.contains(#"latency_seconds_bucket{route="/x",le="0.001"} 0"#))
        #expect(text.contains(#"latency_seconds_bucket{route="/x",le="0.0025"} 1"#))
        #expect(text.contains(#"latency_seconds_bucket{route="/x",le="10"} 1"#))
        #expect(text.contains(#"latency_seconds_bucket{route="/x",le="+Inf"} 2"#))
        #expect(text.contains(#"latency_seconds_sum{route="/x"} 20.002"#))
        #expect(text.contains(#"latency_seconds_count{route="/x"} 2"#))
    }

    @Test func testSecondsText() {
        #expect(MetricsRegistry.secondsText(0) == "0")
        #expect(MetricsRegistry.secondsText(2_500) == "0.0025")
        #expect(MetricsRegistry.secondsText(1_000_000) == "1")
        #expect(MetricsRegistry.secondsText(12_345_678) == "12.345678")
    }
}
