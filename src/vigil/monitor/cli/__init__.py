"""An edge of the monitor room: `vigil monitor`, `vigil rules`, `vigil yara`, `vigil ioc`."""
