"""Stage 1 of the monitor room: log files parsed into the lake dataset monitor_events."""
