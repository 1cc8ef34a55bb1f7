"""The demo: a deterministic synthetic province with planted problems and their ground truth."""
