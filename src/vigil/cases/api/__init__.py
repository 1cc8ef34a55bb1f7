"""The duty room's JSON API: the alert queue, findings and triage, cases, the duty roster."""
