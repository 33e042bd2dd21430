"""The web application factory: every component is passed in, nothing is global, so tests
build an app on a temporary store and a fake index, and ``ecm serve`` on the real ones."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from ecm import __version__
from ecm.config import Config
from store import Archive
from web import admin, api, coding, dashboard, mailroom, review, signin, views
from web.access import ADMINS, CODERS, DASHBOARD, MAILROOM, READERS, REVIEWERS, may
from web.auth import SessionSigner
from web.batches import BatchStore
from web.context import SearchIndex, WebContext
from ecm.db import database_path
from web.errors import add_error_handlers
from web.reviews import ReviewLog
from web.security import SecurityHeadersMiddleware
from web.users import UserStore
from web.worker import BatchWorker

__all__ = ["create_app", "make_templates"]

HERE = Path(__file__).parent


def _page_context(request: Request) -> dict:
    """Template globals that depend on the request: the user, their menu, the CSRF token."""
    user = getattr(request.state, "user", None)
    session = getattr(request.state, "session", None)
    if user is None or session is None:
        return {"signed_in": False, "user": None, "csrf": "", "nav": []}
    nav = [(href, label) for href, label, roles in (
        ("/", "Search", READERS), ("/mailroom", "Mailroom", MAILROOM), ("/review", "Review", REVIEWERS),
        ("/coding", "Coding", CODERS),
        ("/dashboard", "Dashboard", DASHBOARD), ("/admin/users", "Admin", ADMINS),
        ("/help", "Query help", READERS),
    ) if may(user, roles)]
    return {"signed_in": True, "user": user, "nav": nav,
            "csrf": request.app.state.ecm.signer.csrf_token(session)}


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


def create_app(config: Config, archive: Archive, index: SearchIndex, users: UserStore | None = None, *,
               ingest: Callable[..., Any] | None = None,
               executor_factory: Callable[[Config], Any] | None = None) -> FastAPI:
    """The FastAPI app for ``archive`` and ``index``. Users, batches and reviews are kept in
    ``ECM_HOME/ecm.sqlite`` (``users`` may be given, for tests). ``ingest`` and
    ``executor_factory`` replace ``ecm.pipeline.ingest_paths`` and ``Executor`` (tests)."""
    db = database_path(config.home)
    users = users or UserStore(db)
    batches = BatchStore(db)
    worker = BatchWorker(config, archive, index, batches, ingest=ingest, executor_factory=executor_factory)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        worker.start()
        yield
        worker.stop()

    app = FastAPI(
        title="ecm",
        version=__version__,
        description="Document capture and ECM: mailroom, search, review.",
        docs_url=None,  # Swagger UI comes from a CDN; web.views serves a CDN-free /docs
        redoc_url=None,
        openapi_url=None,  # served by web.views, behind the sign-in like every other route
        lifespan=lifespan,
    )
    app.state.ecm = WebContext(config=config, archive=archive, index=index, users=users, batches=batches,
                               reviews=ReviewLog(db), worker=worker, templates=make_templates(),
                               signer=SessionSigner(users.session_key()))
    app.state.signin_limiter = signin.FailureLimiter()
    admin.install(app, db)  # ledger, settings (the stored review threshold), KPI cache
    add_error_handlers(app)
    # Middleware added last runs first: security headers wrap everything, the sign-in gate too.
    app.middleware("http")(signin.require_session)
    app.add_middleware(SecurityHeadersMiddleware)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(signin.router)
    app.include_router(api.router)
    app.include_router(views.router)
    app.include_router(mailroom.router)
    app.include_router(review.router)
    app.include_router(admin.router)
    app.include_router(dashboard.router)
    coding.install(app, config.home)
    return app
