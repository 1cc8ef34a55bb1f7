"""An edge of the monitor room: its part of the demo province."""
