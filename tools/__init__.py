"""Development tools: correctness checks and shared builders (not shipped)."""
