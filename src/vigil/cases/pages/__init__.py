"""The duty room's pages: alert queue, findings, cases, duty roster, handover, dashboard panels."""
