"""The KV cache of a document: its store, the window it holds, and the PIE edits that keep it in step."""
