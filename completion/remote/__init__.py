"""A remote backend: the forwards run on a shared llama-server or OpenAI-compatible server (docs/teams.md)."""
