import Testing

@Test func placeholder_LedgerTests() {}
