"""The registry room: population and voter data "correct, sufficient, clean, living"."""
