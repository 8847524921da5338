"""The kvcomplete demo."""
