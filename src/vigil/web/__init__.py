"""The web room: FastAPI app with server-rendered pages and a JSON API (create_app)."""
