"""Shared fixtures: the dev data beside the project, a fresh ECM_HOME, a small executor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecm.config import Config, load_config
from ecm.executor import LocalExecutor

# Fixtures that start real servers (s3_server: SeaweedFS), shared by every test module.
pytest_plugins = ["tests.servers", "tests.redis_server"]

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
CONTRACT = REPO.parent / "shared" / "contract"
SAMPLES = REPO / "samples" / "documents"


def schema(name: str) -> dict:
    return json.loads((CONTRACT / f"{name}.schema.json").read_text())


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(home=tmp_path / "home", env={})


@pytest.fixture(scope="session")
def executor():
    with LocalExecutor(workers=2) as ex:
        yield ex


def need_data() -> Path:
    if not DATA.is_dir():
        pytest.skip("../shared/data is not beside the project")
    return DATA
