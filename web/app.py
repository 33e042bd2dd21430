"""The web application factory: every component is passed in, nothing is global, so tests
build an app on a temporary store and a fake index, and ``ecm serve`` on the real ones."""

from __future__ import annotations

from pathlib import Path

import jinja2
from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from ecm import __version__
from ecm.config import Config
from store import Archive
from web import api, signin, views
from web.context import SearchIndex, WebContext
from web.errors import add_error_handlers
from web.security import SecurityHeadersMiddleware

__all__ = ["create_app", "make_templates"]

HERE = Path(__file__).parent


def _page_context(request: Request) -> dict:
    """Template globals that depend on the request: the sign-out form's CSRF token."""
    session = getattr(request.state, "session", None)
    if session is None:
        return {"signed_in": False, "signout_csrf": ""}
    return {"signed_in": True, "signout_csrf": request.app.state.ecm.signer.csrf_token(session)}


def make_templates() -> Jinja2Templates:
    # Autoescape on for every template whatever its name (select_autoescape keys on extensions).
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["percent"] = lambda value: f"{100 * float(value):.0f}%"
    return Jinja2Templates(env=env, context_processors=[_page_context])


def create_app(config: Config, archive: Archive, index: SearchIndex, token: str) -> FastAPI:
    """The FastAPI app for ``archive`` and ``index``; ``token`` is the sign-in secret."""
    if not token:
        raise ValueError("the web UI needs a non-empty sign-in token")
    app = FastAPI(
        title="ecm",
        version=__version__,
        description="Document capture and ECM: search and read archived documents.",
        docs_url=None,  # Swagger UI comes from a CDN; web.views serves a CDN-free /docs
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.ecm = WebContext(config=config, archive=archive, index=index, token=token,
                               templates=make_templates())
    add_error_handlers(app)
    # Middleware added last runs first: security headers wrap everything, the sign-in gate too.
    app.middleware("http")(signin.require_session)
    app.add_middleware(SecurityHeadersMiddleware)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(signin.router)
    app.include_router(api.router)
    app.include_router(views.router)
    return app
