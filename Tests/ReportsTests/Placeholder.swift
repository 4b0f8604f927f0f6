import Testing

@Test func placeholder_ReportsTests() {}
