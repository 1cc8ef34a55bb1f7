"""Inspections of agencies and commune offices: a control catalog, evidence checks (backups,
incident-response plans, host hardening, known-vulnerable software), scorecards and remediation."""
