"""``ecm serve``: open the store and the index, make sure there is an admin, print the address, run.

On the first start (no users yet) it creates the user ``admin`` with a random password and
prints it once, with the address; add people with ``ecm user add`` afterwards.
"""

from __future__ import annotations

import secrets

from ecm.config import Config
from ecm.db import database_path
from web.users import Role, UserStore

__all__ = ["serve", "server_url", "ensure_first_admin"]


def server_url(host: str, port: int) -> str:
    # Listening on every address: the address the user can open is on this machine.
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else "[::1]" if host == "::" else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"  # an IPv6 literal in a URL
    return f"http://{shown}:{port}/"


def ensure_first_admin(users: UserStore) -> str | None:
    """When there are no users: create ``admin`` with a random password and return it."""
    if users.count():
        return None
    password = secrets.token_urlsafe(15)
    users.add("admin", Role.admin, password)
    return password


def serve(config: Config, host: str, port: int) -> None:
    import uvicorn  # imported here: only serving needs it

    from ecm.backends import open_archive, open_index
    from web.app import create_app

    users = UserStore(database_path(config.home))
    password = ensure_first_admin(users)
    app = create_app(config, open_archive(config), open_index(config), users)
    print(f"ecm web UI: open {server_url(host, port)}", flush=True)
    if password:
        print(f"first start: sign in as user 'admin' with password {password}\n"
              "  (shown only now; change it with `ecm user passwd admin`, add people with "
              "`ecm user add NAME --role ROLE`)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="info")
