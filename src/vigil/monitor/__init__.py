"""Security monitoring: Windows, syslog, JSON and web logs into the lake; Sigma rules over them."""
