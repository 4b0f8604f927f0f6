// The Reports stage library. See docs/ARCHITECTURE.md.
