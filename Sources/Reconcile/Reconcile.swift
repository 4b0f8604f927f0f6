// The Reconcile stage library. See docs/ARCHITECTURE.md.
