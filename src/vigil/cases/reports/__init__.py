"""The duty room's reports, the shift handover and the daily situation, on vigil.reports."""
