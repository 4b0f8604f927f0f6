// The Ingest stage library. See docs/ARCHITECTURE.md.
