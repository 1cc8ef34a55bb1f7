"""Sigma rules: our DuckDB backend, the log-source pipeline, rule sets and the runner."""
