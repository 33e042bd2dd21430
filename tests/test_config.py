from pathlib import Path

import pytest

from ecm.config import load_config
from ecm.errors import ConfigError


def test_defaults_put_data_under_home(tmp_path: Path):
    config = load_config(home=tmp_path, env={})
    assert config.home == tmp_path
    assert config.store.kind == "fs" and config.search.kind == "embedded"


def test_file_then_environment_override(tmp_path: Path):
    (tmp_path / "ecm.toml").write_text("[ocr]\ndpi = 200\nlanguage = 'deu'\n")
    config = load_config(home=tmp_path, env={"ECM_OCR_DPI": "150"})
    assert config.ocr.dpi == 150  # environment wins over the file
    assert config.ocr.language == "deu"


def test_ecm_home_from_environment(tmp_path: Path):
    assert load_config(env={"ECM_HOME": str(tmp_path / "x")}).home == tmp_path / "x"


def test_bad_toml_names_the_file(tmp_path: Path):
    (tmp_path / "ecm.toml").write_text("[ocr\n")
    with pytest.raises(ConfigError, match="ecm.toml"):
        load_config(home=tmp_path, env={})


def test_bad_value_says_which_setting(tmp_path: Path):
    with pytest.raises(ConfigError, match="store.kind"):
        load_config(home=tmp_path, env={"ECM_STORE_KIND": "floppy"})


def test_missing_explicit_config_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(home=tmp_path, config_file=tmp_path / "nope.toml", env={})
