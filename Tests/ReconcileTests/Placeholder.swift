import Testing

@Test func placeholder_ReconcileTests() {}
