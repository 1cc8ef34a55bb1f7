"""Route modules of the web app, one per page group and one per API area."""
