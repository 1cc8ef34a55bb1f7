"""Indicators of compromise: feeds read into the store, and matched against events and files."""
