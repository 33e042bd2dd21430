"""The browser UI and HTTP API: search, document view, downloads, page images (FastAPI)."""

from web.app import create_app

__all__ = ["create_app"]
