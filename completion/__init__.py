"""The completion engine: documents, KV sessions with PIE edits, decoding. Run by one worker thread."""
