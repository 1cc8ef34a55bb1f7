"""YARA with yara-x: rule folders compiled once and cached, files scanned into Findings."""
