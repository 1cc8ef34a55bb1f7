"""Shared vocabulary of every capability: units, calendar, findings, severity, errors."""
