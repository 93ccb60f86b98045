"""Check kinds: pure functions from observations to pass, fail or error."""
