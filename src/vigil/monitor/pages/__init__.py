"""An edge of the monitor room: its web pages."""
