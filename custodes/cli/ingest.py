"""`custodes ingest`: read files and folders into the lake (placeholder wiring, see store)."""
