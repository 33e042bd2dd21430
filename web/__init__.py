"""The browser UI and HTTP API: search, documents, mailroom, review (FastAPI).

``create_app`` is imported on first use, so ``ecm user`` (``web.cli``) does not load FastAPI.
"""

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from web.app import create_app

        return create_app
    raise AttributeError(f"module 'web' has no attribute {name!r}")
