import Testing

@Test func placeholder_CreditsEndToEndTests() {}
