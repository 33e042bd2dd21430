from pathlib import Path

import pytest

from ecm.config import load_config
from ecm.errors import ConfigError
from extract.review import DEFAULT_THRESHOLD


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


# ----------------------------------------------------------------------------- stored (admin) settings


def test_threshold_precedence_env_then_stored_then_file_then_default(tmp_path: Path):
    from ecm.settings import SettingsStore, configured, effective_config

    assert effective_config(tmp_path, env={}).review.threshold == DEFAULT_THRESHOLD  # the default
    assert not (tmp_path / "ecm.sqlite").exists()  # reading settings never creates the database
    (tmp_path / "ecm.toml").write_text("[review]\nthreshold = 0.7\n")
    assert effective_config(tmp_path, env={}).review.threshold == 0.7  # the file
    SettingsStore(tmp_path / "ecm.sqlite").set("review.threshold", "0.55", by="user:admin")
    config = effective_config(tmp_path, env={})
    assert config.review.threshold == 0.55  # the admin's stored value over the file
    assert configured(config) == 0.7  # ... and what it replaced, for the admin page's "back to"
    pinned = effective_config(tmp_path, env={"ECM_REVIEW_THRESHOLD": "0.9"})
    assert pinned.review.threshold == 0.9 and configured(pinned) == 0.9  # the environment over everything


def test_a_bad_stored_threshold_falls_back_to_the_configuration(tmp_path: Path):
    from ecm.settings import SettingsStore, effective_config

    SettingsStore(tmp_path / "ecm.sqlite").set("review.threshold", "lots", by="user:admin")
    assert effective_config(tmp_path, env={}).review.threshold == DEFAULT_THRESHOLD


def test_a_database_without_settings_is_no_override(tmp_path: Path):
    import sqlite3

    from ecm.settings import effective_config

    sqlite3.connect(tmp_path / "ecm.sqlite").execute("CREATE TABLE users (name TEXT)").connection.close()
    assert effective_config(tmp_path, env={}).review.threshold == DEFAULT_THRESHOLD
