"""Users and roles: the store (argon2 hashes, lockout, epochs) and the `ecm user` sub-commands."""

from __future__ import annotations

import sqlite3

import pytest
from typer.testing import CliRunner

from tests.test_web import FAST_HASHER
from web.cli import users_app
from web.users import LOCK_SECONDS, MAX_FAILURES, Role, SignInRefused, UserError, UserStore


@pytest.fixture()
def store(tmp_path) -> UserStore:
    return UserStore(tmp_path / "ecm.sqlite", hasher=FAST_HASHER)


def test_passwords_are_argon2_hashes_never_plain(store, tmp_path):
    store.add("ann", Role.clerk, "correct horse battery")
    row = sqlite3.connect(tmp_path / "ecm.sqlite").execute("SELECT password_hash FROM users").fetchone()
    assert row[0].startswith("$argon2id$") and "correct horse" not in row[0]
    assert store.authenticate("ann", "correct horse battery").name == "ann"


def test_bad_names_roles_and_passwords_are_refused(store):
    with pytest.raises(UserError, match="bad user name"):
        store.add("Ann Smith", Role.clerk, "long enough password")
    with pytest.raises(UserError, match="unknown role"):
        store.add("ann", "boss", "long enough password")
    with pytest.raises(UserError, match="too short"):
        store.add("ann", Role.clerk, "short")
    store.add("ann", Role.clerk, "long enough password")
    with pytest.raises(UserError, match="already exists"):
        store.add("ann", Role.admin, "long enough password")
    with pytest.raises(UserError, match="no user"):
        store.set_role("bob", Role.admin)


def test_lockout_and_its_end(store):
    store.add("ann", Role.clerk, "long enough password")
    for _ in range(MAX_FAILURES):
        with pytest.raises(SignInRefused, match="Wrong"):
            store.authenticate("ann", "wrong password!", now=1000.0)
    with pytest.raises(SignInRefused, match="locked"):
        store.authenticate("ann", "long enough password", now=1001.0)
    assert store.authenticate("ann", "long enough password", now=1000.0 + LOCK_SECONDS + 1).name == "ann"


def test_changes_bump_the_epoch(store):
    epoch = store.add("ann", Role.clerk, "long enough password").epoch
    assert store.set_role("ann", Role.reviewer).epoch == epoch + 1
    assert store.set_password("ann", "another long one").epoch == epoch + 2
    assert store.set_disabled("ann").disabled


def test_session_key_is_kept(tmp_path):
    first = UserStore(tmp_path / "ecm.sqlite", hasher=FAST_HASHER).session_key()
    assert UserStore(tmp_path / "ecm.sqlite", hasher=FAST_HASHER).session_key() == first and len(first) == 32


def test_user_commands(tmp_path, monkeypatch):
    monkeypatch.setenv("ECM_HOME", str(tmp_path))
    runner = CliRunner()
    r = runner.invoke(users_app, ["add", "ann", "--role", "reviewer", "--password-stdin"], input="a long password\n")
    assert r.exit_code == 0, r.output
    assert "added ann (reviewer)" in r.output
    r = runner.invoke(users_app, ["add", "bob", "--role", "clerk"], input="bobs password 1\nbobs password 1\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(users_app, ["add", "cy", "--role", "clerk"], input="first password\nsecond password\n"
                      "third password\nthird password\n")
    assert r.exit_code == 0 and "do not match" in r.output.lower()
    r = runner.invoke(users_app, ["add", "dee", "--role", "wizard", "--password-stdin"], input="a long password\n")
    assert r.exit_code == 2 and "unknown role" in r.output
    r = runner.invoke(users_app, ["set-role", "bob", "mailroom"])
    assert r.exit_code == 0 and "bob is now mailroom" in r.output
    r = runner.invoke(users_app, ["disable", "cy"])
    assert r.exit_code == 0
    r = runner.invoke(users_app, ["passwd", "ann", "--password-stdin"], input="a newer password\n")
    assert r.exit_code == 0
    r = runner.invoke(users_app, ["list"])
    lines = r.output.splitlines()
    assert [line.split()[:3] for line in lines] == [["ann", "reviewer", "active"], ["bob", "mailroom", "active"],
                                                     ["cy", "clerk", "disabled"]]
    store = UserStore(tmp_path / "ecm.sqlite")
    assert store.authenticate("ann", "a newer password").role == Role.reviewer
    r = runner.invoke(users_app, ["passwd", "zed", "--password-stdin"], input="a newer password\n")
    assert r.exit_code == 2 and "no user 'zed'" in r.output
