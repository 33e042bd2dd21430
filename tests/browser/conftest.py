"""Browser tests: a real ``ecm serve`` (uvicorn) on a free 127.0.0.1 port with a temporary
ECM_HOME, driven by Playwright with Debian's Chromium (never a downloaded browser).

Chromium missing is a failure, not a skip: ``make install`` installs it (apt: chromium)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ecm.db import database_path
from web.users import UserStore

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "docs" / "screenshots"
PASSWORD = "browser-test-password"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("ecm-home")
    users = UserStore(database_path(home))
    for name in ("mailroom", "clerk", "reviewer"):
        users.add(name, name, PASSWORD)
    port = _free_port()
    env = {**os.environ, "ECM_HOME": str(home), "OMP_THREAD_LIMIT": "1"}
    code = ("from ecm.config import load_config; from web.server import serve; "
            f"serve(load_config(), '127.0.0.1', {port})")
    log = (home / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"ecm serve did not start: {(home / 'server.log').read_text()[-2000:]}")
        time.sleep(0.2)
    yield {"url": url, "home": home}
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium")
    if not executable:
        pytest.fail("Chromium is not installed: run `make install` (it installs the Debian packages "
                    "chromium and chromium-driver); the browser tests never download a browser.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def sign_in(browser, server):
    """``sign_in(name)``: a new browser page signed in as that user."""
    contexts = []

    def open_as(name: str):
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(server["url"] + "/signin")
        page.fill("#name", name)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "/signin" not in page.url, page.content()[:500]
        return page

    yield open_as
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
