"""``ecm serve``: open the store and the index, make a sign-in token, print the link, run."""

from __future__ import annotations

import copy
import logging
import os
import re
import secrets

from ecm.config import Config

__all__ = ["serve", "sign_in_url", "TokenRedactingFilter"]

TOKEN_ENV = "ECM_WEB_TOKEN"


def sign_in_url(host: str, port: int, token: str) -> str:
    # Listening on every address: the link the user can open is on this machine.
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else "[::1]" if host == "::" else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"  # an IPv6 literal in a URL
    return f"http://{shown}:{port}/?token={token}"


class TokenRedactingFilter(logging.Filter):
    """Keeps the sign-in token out of the access log (the sign-in link is a logged request)."""

    _TOKEN = re.compile(r"(token=)[^&\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._TOKEN.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                                for a in record.args)
        return True


def serve(config: Config, host: str, port: int) -> None:
    import uvicorn  # imported here: only serving needs it
    from uvicorn.config import LOGGING_CONFIG

    from ecm.backends import open_archive, open_index
    from web.app import create_app

    token = os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(32)
    app = create_app(config, open_archive(config), open_index(config), token)
    log_config = copy.deepcopy(LOGGING_CONFIG)
    log_config.setdefault("filters", {})["redact_token"] = {"()": TokenRedactingFilter}
    log_config["handlers"]["access"]["filters"] = ["redact_token"]
    print(f"ecm web UI: open {sign_in_url(host, port, token)}", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="info", log_config=log_config)
