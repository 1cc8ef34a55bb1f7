"""Candidate checks: what each candidate declared about themselves, compared with the registry."""
