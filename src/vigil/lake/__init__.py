"""Bulk datasets as Parquet under the data directory, queried through one small engine interface."""
