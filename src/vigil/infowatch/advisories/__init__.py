"""Advisories: official information and scam warnings, two-person approved, published."""
