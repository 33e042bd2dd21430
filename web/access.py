"""Who may do what: every route declares the roles allowed, and every POST checks its CSRF token.

    @router.get("/mailroom", dependencies=[Depends(require(*MAILROOM))])
    @router.post("/review/{doc_id}", dependencies=[Depends(require(*REVIEWERS)), Depends(csrf_checked)])

The sign-in middleware (``web.signin``) has already put the signed-in ``User`` on
``request.state``; ``require`` only compares roles, so it is cheap. The dependency keeps the
roles it was made with (``.roles``): the route test walks every route with every role.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from starlette.exceptions import HTTPException

from web.users import Role, User

__all__ = [
    "EVERYONE",
    "READERS",
    "MAILROOM",
    "REVIEWERS",
    "CODERS",
    "LEADS",
    "ADMINS",
    "DASHBOARD",
    "CSRF_HEADER",
    "require",
    "current_user",
    "csrf_checked",
    "check_csrf",
    "may",
]

EVERYONE = tuple(Role)
READERS = (Role.clerk, Role.coder, Role.reviewer, Role.admin)  # search and read documents
MAILROOM = (Role.mailroom, Role.admin)
REVIEWERS = (Role.reviewer, Role.admin)
CODERS = (Role.coder, Role.admin)  # legal coding (web.coding)
LEADS = (Role.admin,)  # coding leads: make batches, assign, export (no separate lead role yet)
ADMINS = (Role.admin,)  # users, thresholds, holds, the audit trail
DASHBOARD = (Role.admin, Role.reviewer)  # read-only KPIs: reviewers watch their backlog too
CSRF_HEADER = "x-csrf-token"


def current_user(request: Request) -> User:
    user = getattr(request.state, "user", None)
    if user is None:  # the middleware lets no one through without a user; this is a backstop
        raise HTTPException(401, "Not signed in.")
    return user


def may(user: User | None, roles: tuple[Role, ...]) -> bool:
    return user is not None and user.role in roles


def require(*roles: Role) -> Callable[[Request], User]:
    """A dependency that lets only users with one of ``roles`` through (403 for the others)."""
    allowed = frozenset(roles)
    if not allowed:
        raise ValueError("require() needs at least one role")

    def check(request: Request) -> User:
        user = current_user(request)
        if user.role not in allowed:
            names = ", ".join(r.value for r in Role if r in allowed)
            raise HTTPException(403, f"Your role ({user.role.value}) cannot open this; it is for: {names}.")
        return user

    check.roles = allowed  # type: ignore[attr-defined]
    return check


def check_csrf(request: Request, token: str | None) -> None:
    ctx = request.app.state.ecm
    if not ctx.signer.check_csrf(getattr(request.state, "session", None), token):
        raise HTTPException(403, "The form had expired (its security token did not match); reload the page "
                                 "and try again.")


async def csrf_checked(request: Request) -> None:
    """For POST routes: the session's CSRF token, as the ``csrf`` form field or the
    ``X-CSRF-Token`` header (fetch calls)."""
    token = request.headers.get(CSRF_HEADER)
    if not token and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf")
        token = value if isinstance(value, str) else None
    check_csrf(request, token)


csrf_checked.checks_csrf = True  # type: ignore[attr-defined]
