"""Configuration: defaults, then a TOML file, then ``ECM_<SECTION>_<KEY>`` environment variables.

The file is ``$ECM_HOME/ecm.toml`` unless ``ECM_CONFIG`` (or ``--config``) names another.
``ECM_HOME`` (or ``--home``) is the embedded data folder; default ``./ecm-data``.
Example: ``ECM_OCR_DPI=200`` overrides ``[ocr] dpi``. Secrets (S3 keys, Elasticsearch
passwords) come from the environment only, never from files in the repository.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, PrivateAttr, ValidationError

from ecm.errors import ConfigError
from extract.review import DEFAULT_THRESHOLD

__all__ = ["Config", "load_config"]


class OcrConfig(BaseModel):
    language: str = "eng"
    dpi: int = 300  # render resolution for pages without a text layer
    timeout: int = 180  # seconds per page before Tesseract is stopped
    min_text_chars: int = 20  # a text layer with fewer characters on a page counts as absent
    workers: int = 0  # OCR processes; 0 = one per available core
    # "auto": small single images (phone photos, till receipts) are also read by RapidOCR, whose
    # text (cut into words where Tesseract saw gaps) replaces Tesseract's; "tesseract": Tesseract alone.
    engine: Literal["auto", "tesseract"] = "auto"
    # "auto" reads images with RapidOCR too when they hold at most rapid_max_pixels pixels and are no
    # longer than rapid_max_side on their long side (phone photos, till receipts, 200 dpi page images).
    rapid_max_pixels: int = 4_000_000
    rapid_max_side: int = 4000  # px


class LimitsConfig(BaseModel):
    max_file_mb: int = 200
    max_pages: int = 2000
    max_image_pixels: int = 200_000_000  # Pillow decompression-bomb limit
    max_page_pixels: int = 60_000_000  # a page is rendered at lower dpi if it would exceed this
    min_image_side: int = 32  # smaller images are not document pages
    max_page_inches: int = 120  # PDF pages larger than this (on a side) are not paper


class StoreConfig(BaseModel):
    kind: Literal["fs", "s3"] = "fs"
    # kind = "s3": endpoint and keys come from ECM_S3_ENDPOINT, ECM_S3_ACCESS_KEY, ECM_S3_SECRET_KEY
    # and ECM_S3_SECURE (environment only, never this file).
    bucket: str = "ecm"
    sse: bool = False  # server-side encryption (SSE-S3) of every object
    object_lock: bool = False  # needed by `ecm hold` / `ecm retain`; S3 allows it only when the bucket is created


class SearchConfig(BaseModel):
    kind: Literal["embedded", "elasticsearch"] = "embedded"
    # kind = "elasticsearch": the alias ecm searches and writes (physical indexes are
    # "<alias>-<timestamp>"); the cluster comes from ECM_ES_URL, ECM_ES_USERNAME, ECM_ES_PASSWORD,
    # ECM_ES_API_KEY and ECM_ES_CA_CERTS (environment only, never this file).
    alias: str = "ecm"


class QueueConfig(BaseModel):
    # "local": a process pool on this machine. "celery": pages go through Redis to `ecm worker`
    # processes on any number of machines (broker URL from ECM_REDIS_URL, environment only).
    kind: Literal["local", "celery"] = "local"
    page_timeout: int = 600  # seconds to wait for a worker to finish one page


class ReviewConfig(BaseModel):
    # Documents with a class or field confidence below go to review. Confidences are calibrated
    # (P(right)); the default is explained in extract/review.py.
    threshold: float = DEFAULT_THRESHOLD


class WebConfig(BaseModel):
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_mb: int = 100


class Config(BaseModel):
    home: Path = Path("ecm-data")
    ocr: OcrConfig = OcrConfig()
    limits: LimitsConfig = LimitsConfig()
    store: StoreConfig = StoreConfig()
    search: SearchConfig = SearchConfig()
    queue: QueueConfig = QueueConfig()
    review: ReviewConfig = ReviewConfig()
    web: WebConfig = WebConfig()
    # Set by ecm.settings.apply_settings: the value each stored (admin) setting replaced, by
    # name ("review.threshold"), so the admin page can show the configured value and restore it.
    _replaced: dict[str, Any] = PrivateAttr(default_factory=dict)


def _env_overrides(env: dict[str, str]) -> dict:
    """``ECM_OCR_DPI=200`` -> ``{"ocr": {"dpi": "200"}}`` for every known section and key."""
    out: dict = {}
    for section, field in Config.model_fields.items():
        model = field.annotation
        if not isinstance(model, type) or not issubclass(model, BaseModel):
            continue
        for key in model.model_fields:
            name = f"ECM_{section}_{key}".upper()
            if name in env:
                out.setdefault(section, {})[key] = env[name]
    return out


def _merge(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_config(
    home: Path | str | None = None,
    config_file: Path | str | None = None,
    env: dict[str, str] | None = None,
) -> Config:
    env = dict(os.environ) if env is None else env
    home_path = Path(home or env.get("ECM_HOME") or "ecm-data").expanduser()
    file_path = Path(config_file or env.get("ECM_CONFIG") or home_path / "ecm.toml")
    data: dict = {}
    if file_path.is_file():
        try:
            data = tomllib.loads(file_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ConfigError(f"{file_path}: not valid TOML ({err}); fix or remove the file") from err
    elif config_file:
        raise ConfigError(f"config file {file_path} does not exist")
    data = _merge(data, _env_overrides(env))
    data["home"] = str(home_path)
    try:
        return Config.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()
        )
        raise ConfigError(f"invalid configuration ({file_path} or ECM_* variables): {problems}") from err
