"""kvcomplete: a local code-completion daemon with persistent, edit-following KV caches."""

__version__ = "0.1.0"
