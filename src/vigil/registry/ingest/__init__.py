"""Registry extracts into the lake: encodings, layouts, rows checked and normalised."""
