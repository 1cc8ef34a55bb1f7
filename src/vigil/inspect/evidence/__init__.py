"""Evidence checks: each reads one kind of evidence and says which controls it passes or fails."""
