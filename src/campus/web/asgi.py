"""ASGI entry point for uvicorn and other servers: `campus.web.asgi:app`."""

from campus.web.app import create_app

app = create_app()
