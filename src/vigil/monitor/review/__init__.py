"""Stage 3 of the monitor room: what pages and commands show of stored events and detections."""
