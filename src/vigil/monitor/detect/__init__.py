"""Stage 2 of the monitor room: Sigma rules, YARA, indicators and silent sensors, as Findings."""
