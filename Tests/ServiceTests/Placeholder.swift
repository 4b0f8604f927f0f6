import Testing

@Test func placeholder_ServiceTests() {}
