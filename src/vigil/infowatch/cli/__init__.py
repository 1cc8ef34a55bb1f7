"""The room's commands: `vigil infowatch ...` and `vigil watchlist ...`."""
