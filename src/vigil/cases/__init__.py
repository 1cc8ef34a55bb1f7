"""The duty room: alert queue, triage, cases with playbooks, duty roster, shift handover."""
