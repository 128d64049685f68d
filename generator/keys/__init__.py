"""API keys: who may use the generator's API, at what rate, with what daily quota (docs/architecture.md)."""
