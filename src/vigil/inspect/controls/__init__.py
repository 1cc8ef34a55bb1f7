"""The control catalog and its profiles, and how answers to controls make a scorecard."""
