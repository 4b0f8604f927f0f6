// The Service stage library. See docs/ARCHITECTURE.md.
