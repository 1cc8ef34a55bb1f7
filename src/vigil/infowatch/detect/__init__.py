"""The room's detectors: scam, lookalike-domain, impersonation, false-claim,
coordinated-campaign, narrative-spike; each rule's words and patterns are data (YAML)."""
