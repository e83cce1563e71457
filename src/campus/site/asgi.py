"""ASGI entry point for uvicorn and other servers: `campus.site.asgi:app`."""

from campus.site.app import create_app

app = create_app()
