// Ledger core. See docs/ARCHITECTURE.md.
