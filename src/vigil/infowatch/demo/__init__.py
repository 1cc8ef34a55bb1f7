"""The information watch's part of the demo province."""
