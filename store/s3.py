"""The BlobStore on S3 (AWS, MinIO, SeaweedFS, ...) through the ``minio`` client.

Every object carries the sha256 of its bytes in its metadata (``x-amz-meta-sha256``) and every
read is checked against it: a corrupted or tampered object raises IntegrityError, it is never
served. Network errors, 5xx and SlowDown are retried with exponential backoff; 4xx are not (they
will not get better). Everything minio and urllib3 raise is translated here into ``ecm.errors``.

The bucket is versioned, so an overwrite keeps the previous bytes. Compliance (``ecm hold`` /
``ecm retain``) needs a bucket created with object lock, which S3 only allows at creation:
``set_legal_hold``, ``set_retention`` (COMPLIANCE mode) and ``delete``, which removes every
version of a key and is refused, with the reason, while any version is held or retained.

Credentials come from the environment only (``S3BlobStore.from_env``), never from files.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any, TypeVar

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE, ENABLED
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError
from minio.retention import Retention
from minio.sse import SseS3
from minio.versioningconfig import VersioningConfig
from urllib3.exceptions import MaxRetryError

from ecm.errors import ConfigError, IntegrityError, NotFound, StoreError
from store.blobs import check_key

__all__ = ["PART_SIZE", "S3BlobStore", "make_client"]

T = TypeVar("T")

PART_SIZE = 8 * 1024 * 1024  # larger objects are uploaded in parts (S3's minimum part is 5 MiB)
SHA256_META = "sha256"  # stored as the x-amz-meta-sha256 header
MAX_BACKOFF = 20.0  # seconds; the cap keeps a long outage from growing single waits without bound

_TRANSIENT_CODES = frozenset({"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling",
                              "RequestLimitExceeded"})
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchVersion"})
_ACCESS_CODES = frozenset({"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken",
                           "ExpiredToken"})
# "No legal hold / retention / lock configuration here": AWS and SeaweedFS spell it differently.
_NO_LOCK_CODES = frozenset({"NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError",
                            "NoSuchObjectLegalHold"})
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def make_client(endpoint: str, access_key: str, secret_key: str, *, secure: bool = True,
                region: str | None = None, timeout: float = 30.0) -> Minio:
    """A minio client without urllib3's own retries: S3BlobStore retries, so there is one retry
    budget and a dead endpoint fails in a predictable time."""
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=timeout, read=timeout),
        maxsize=10,
        retries=False,  # no retries, and redirects are returned to minio, which handles them itself
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
    )
    return Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region,
                 http_client=http)


def _endpoint_of(client: Minio) -> str:
    base = getattr(client, "_base_url", None)  # minio keeps the endpoint private
    if base is None:
        return "the S3 endpoint"
    return f"{'https' if base.is_https else 'http'}://{base.host}"


def _root_cause(err: BaseException) -> BaseException:
    return err.reason if isinstance(err, MaxRetryError) and err.reason is not None else err


def _is_transient(err: BaseException) -> bool:
    """Worth another try: the network, a 5xx, or the server asking us to slow down."""
    if isinstance(err, S3Error):
        return err.code in _TRANSIENT_CODES or getattr(err.response, "status", 0) >= 500
    if isinstance(err, ServerError):
        return err.status_code >= 500
    if isinstance(err, InvalidResponseError):  # a proxy's HTML 502/503 page
        return getattr(err, "_code", 0) >= 500
    cause = _root_cause(err)
    if isinstance(cause, urllib3.exceptions.SSLError):
        return False  # a certificate or protocol mismatch does not heal by waiting
    return isinstance(cause, (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError))


class S3BlobStore:
    """Objects in one versioned S3 bucket; see the module docstring."""

    def __init__(self, client: Minio, bucket: str, *, sse: bool = False, object_lock: bool = False,
                 retries: int = 4, backoff: float = 0.2):
        if not _BUCKET_NAME.fullmatch(bucket) or ".." in bucket:
            # Checked here because minio checks strictly only for AWS hosts, and servers differ.
            raise ConfigError(f"bucket name {bucket!r} is not valid in S3: use 3-63 lowercase letters, digits, "
                              f"'-' and '.', starting and ending with a letter or digit")
        self.client = client
        self.bucket = bucket
        self.endpoint = _endpoint_of(client)
        self.retries = retries
        self.backoff = backoff  # first wait in seconds; doubles per retry
        self._sse = SseS3() if sse else None
        self.object_lock = self._open_bucket(object_lock)

    @classmethod
    def from_env(cls, bucket: str, *, env: Mapping[str, str] | None = None, **options: Any) -> S3BlobStore:
        """Connect with ``ECM_S3_ENDPOINT`` (host:port or a URL), ``ECM_S3_ACCESS_KEY``,
        ``ECM_S3_SECRET_KEY`` and ``ECM_S3_SECURE`` (default true). ``options`` go to the constructor."""
        env = os.environ if env is None else env
        missing = [name for name in ("ECM_S3_ENDPOINT", "ECM_S3_ACCESS_KEY", "ECM_S3_SECRET_KEY") if not env.get(name)]
        if missing:
            raise ConfigError(f"[store] kind = \"s3\" needs the environment variables {', '.join(missing)} "
                              f"(credentials are read from the environment only, never from files)")
        endpoint = env["ECM_S3_ENDPOINT"].strip().rstrip("/")
        secure_text = env.get("ECM_S3_SECURE", "").strip().lower()
        if secure_text and secure_text not in _TRUE | _FALSE:
            raise ConfigError(f"ECM_S3_SECURE={env['ECM_S3_SECURE']!r} is not a boolean; use true or false")
        secure = secure_text not in _FALSE  # TLS unless explicitly turned off
        scheme, sep, rest = endpoint.partition("://")
        if sep:
            if scheme not in ("http", "https") or "/" in rest:
                raise ConfigError(f"ECM_S3_ENDPOINT={endpoint!r}: use host:port or http(s)://host:port, without a path")
            if secure_text and secure != (scheme == "https"):
                raise ConfigError(f"ECM_S3_ENDPOINT={endpoint!r} contradicts ECM_S3_SECURE={secure_text}; drop one")
            endpoint, secure = rest, scheme == "https"
        client = make_client(endpoint, env["ECM_S3_ACCESS_KEY"], env["ECM_S3_SECRET_KEY"], secure=secure)
        return cls(client, bucket, **options)

    # the BlobStore protocol ------------------------------------------------
    def put(self, key: str, data: bytes) -> None:
        check_key(key)
        digest = hashlib.sha256(data).hexdigest()
        # A fresh stream per attempt: a failed attempt may have consumed part of the last one.
        # put_object switches to a multipart upload when the data is larger than one part.
        self._call(f"write {key!r}", lambda: self.client.put_object(
            self.bucket, key, io.BytesIO(data), len(data), part_size=PART_SIZE,
            metadata={SHA256_META: digest}, sse=self._sse))

    def get(self, key: str) -> bytes:
        check_key(key)

        def download() -> tuple[bytes, str | None]:
            response = self.client.get_object(self.bucket, key)
            try:
                # Bytes and checksum come from one response, so they belong to the same version.
                return response.read(), response.headers.get(f"x-amz-meta-{SHA256_META}")
            finally:
                response.close()
                response.release_conn()

        data, expected = self._call(f"read {key!r}", download, key=key)
        where = f"object {key!r} in bucket {self.bucket!r} at {self.endpoint}"
        if expected is None:
            raise IntegrityError(f"{where} has no sha256 metadata, so it cannot be verified; it was not written "
                                 f"by ecm: store it again through ecm")
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected.strip().lower():
            raise IntegrityError(f"{where} is corrupted (its bytes hash to {actual}, it was written as {expected}); "
                                 f"restore it from an earlier version of the object or from backup")
        return data

    def keys(self, prefix: str) -> Iterator[str]:
        """Keys under ``prefix`` (a folder prefix, "" or ending in '/', or a full key), sorted.

        As in FsBlobStore a prefix that is not a folder names a key or a folder: "a/b" gives
        "a/b" and "a/b/...", never "a/bc". S3 lists in key order; a transient failure resumes
        the listing after the last key yielded, so nothing is skipped or repeated."""
        folder = prefix == "" or prefix.endswith("/")
        last = ""
        failures = 0
        while True:
            try:
                listing = self.client.list_objects(self.bucket, prefix=prefix, recursive=True, start_after=last or None)
                for obj in listing:
                    name = last = obj.object_name  # the resume point, past skipped siblings ("a/bc") too
                    if folder or name == prefix or name.startswith(prefix + "/"):
                        failures = 0  # progress: a long listing may survive several separate hiccups
                        yield name
                return
            except (MinioException, urllib3.exceptions.HTTPError, OSError, ValueError) as err:
                if not _is_transient(err) or failures >= self.retries:
                    raise self._translate(err, f"list {prefix!r}") from err
                self._sleep(failures)
                failures += 1

    def exists(self, key: str) -> bool:
        check_key(key)
        try:
            self._call(f"check {key!r}", lambda: self.client.stat_object(self.bucket, key), key=key)
        except NotFound:
            return False
        return True

    # compliance (beyond the protocol; used by `ecm hold` and `ecm retain`) --
    def set_legal_hold(self, key: str, on: bool) -> None:
        """Hold (or release) the current version of ``key``: while held it cannot be deleted."""
        self._require_object_lock("a legal hold")
        version = self._current_version(key)
        change = self.client.enable_object_legal_hold if on else self.client.disable_object_legal_hold
        self._call(f"{'set' if on else 'release'} the legal hold on {key!r}",
                   lambda: change(self.bucket, key, version_id=version), key=key)

    def set_retention(self, key: str, until: datetime) -> None:
        """Retain the current version of ``key`` in COMPLIANCE mode until ``until`` (timezone-aware).

        COMPLIANCE retention can be extended but never shortened or removed, by anyone."""
        if until.tzinfo is None:
            raise ValueError("retention needs a timezone-aware datetime (e.g. datetime.now(timezone.utc))")
        self._require_object_lock("retention")
        version = self._current_version(key)
        current = self._retained_until(key, version)
        if current is not None and until < current:
            raise StoreError(f"cannot shorten the retention of {key!r} to {until.isoformat()}: it is retained in "
                             f"COMPLIANCE mode until {current.isoformat()}, which can be extended but never shortened")
        self._call(f"set the retention of {key!r}", lambda: self.client.set_object_retention(
            self.bucket, key, Retention(COMPLIANCE, until.astimezone(timezone.utc)), version_id=version), key=key)

    def delete(self, key: str) -> None:
        """Remove ``key`` and every earlier version of it.

        A plain S3 delete on a versioned bucket only adds a delete marker: the bytes stay and are
        hidden, which is neither disposal nor retention. So every version is deleted, after checking
        that none is held or retained, so that a refusal leaves the object exactly as it was."""
        check_key(key)
        versions = self._versions(key)
        if not versions:
            raise NotFound(f"no object {key!r} in bucket {self.bucket} at {self.endpoint}")
        if self.object_lock:
            for version, is_marker in versions:
                reason = None if is_marker else self._lock_reason(key, version)
                if reason:
                    raise StoreError(f"cannot delete {key!r}: {reason}")
        for version, _ in versions:
            try:
                self._retrying(lambda v=version: self.client.remove_object(self.bucket, key, version_id=v))
            except S3Error as err:
                if err.code in _ACCESS_CODES:
                    raise StoreError(
                        f"cannot delete {key!r}: {self.endpoint} refused to delete version {version} ({err.code}); "
                        f"it is under a legal hold or retention, or the credentials lack s3:DeleteObjectVersion"
                    ) from err
                raise self._translate(err, f"delete {key!r}", key=key) from err
            except (MinioException, urllib3.exceptions.HTTPError, OSError, ValueError) as err:
                raise self._translate(err, f"delete {key!r}", key=key) from err

    # helpers ---------------------------------------------------------------
    def _open_bucket(self, object_lock: bool) -> bool:
        """Create the bucket if missing, make sure it is versioned; return whether it has object lock."""
        what = "open the bucket"
        try:
            created = False
            if not self._retrying(lambda: self.client.bucket_exists(self.bucket)):
                try:
                    self._retrying(lambda: self.client.make_bucket(self.bucket, object_lock=object_lock))
                    created = True
                except S3Error as err:
                    if err.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise  # someone else creating it at the same moment is fine; anything else is not
            status = None if created else self._retrying(lambda: self.client.get_bucket_versioning(self.bucket)).status
            if status != ENABLED:
                self._retrying(lambda: self.client.set_bucket_versioning(self.bucket, VersioningConfig(ENABLED)))
            lock = self._call(what, lambda: self.client.get_object_lock_config(self.bucket) or True,
                              none_when=_NO_LOCK_CODES)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as err:
            raise self._translate(err, what) from err
        has_lock = lock is not None
        if object_lock and not has_lock:
            raise ConfigError(f"bucket {self.bucket!r} at {self.endpoint} exists without object lock, and S3 enables "
                              f"object lock only when a bucket is created: configure a new bucket name")
        return has_lock

    def _require_object_lock(self, what: str) -> None:
        if not self.object_lock:
            # SeaweedFS accepts holds and retention on such a bucket but does not enforce them; AWS refuses.
            # Refusing here gives the same answer everywhere and no false sense of protection.
            raise StoreError(f"cannot enforce {what}: bucket {self.bucket!r} was created without object lock "
                             f"(S3 enables it only at creation); configure a new bucket with object lock")

    def _current_version(self, key: str) -> str | None:
        check_key(key)
        stat = self._call(f"check {key!r}", lambda: self.client.stat_object(self.bucket, key), key=key)
        return stat.version_id

    def _versions(self, key: str) -> list[tuple[str, bool]]:
        """(version id, is a delete marker) of every version of exactly ``key``."""
        def listing() -> list[tuple[str, bool]]:
            return [(obj.version_id, obj.is_delete_marker)
                    for obj in self.client.list_objects(self.bucket, prefix=key, recursive=True, include_version=True)
                    if obj.object_name == key and obj.version_id]
        return self._call(f"list the versions of {key!r}", listing, key=key)

    def _retained_until(self, key: str, version: str | None) -> datetime | None:
        retention = self._call(f"read the retention of {key!r}", lambda: self.client.get_object_retention(
            self.bucket, key, version_id=version), key=key, none_when=_NO_LOCK_CODES)
        return retention.retain_until_date if retention else None

    def _lock_reason(self, key: str, version: str) -> str | None:
        """Why ``version`` of ``key`` may not be deleted now, or None."""
        held = self._call(f"read the legal hold of {key!r}", lambda: self.client.is_object_legal_hold_enabled(
            self.bucket, key, version_id=version), key=key, none_when=_NO_LOCK_CODES)
        if held:
            return f"version {version} is under a legal hold; release the hold first (`ecm hold --release`)"
        until = self._retained_until(key, version)
        if until is not None and until > datetime.now(timezone.utc):
            return f"version {version} is retained in COMPLIANCE mode until {until.isoformat()}"
        return None

    def _sleep(self, attempt: int) -> None:
        delay = min(MAX_BACKOFF, self.backoff * 2**attempt)
        # Jitter, so that workers failing together do not retry together.
        time.sleep(delay * random.uniform(0.5, 1.0))

    def _retrying(self, operation: Callable[[], T]) -> T:
        """``operation()``, retried on transient failures; the last failure is raised untranslated."""
        for attempt in range(self.retries + 1):
            try:
                return operation()
            except (MinioException, urllib3.exceptions.HTTPError, OSError) as err:
                if not _is_transient(err) or attempt == self.retries:
                    raise
                self._sleep(attempt)
        raise AssertionError("unreachable")

    def _call(self, action: str, operation: Callable[[], T], *, key: str | None = None,
              none_when: frozenset[str] = frozenset()) -> T | None:
        """``operation()`` with retries, every failure translated into an ``ecm.errors`` type.

        An S3 error whose code is in ``none_when`` is an answer ("no retention here"): None."""
        try:
            return self._retrying(operation)
        except S3Error as err:
            if err.code in none_when:
                return None
            raise self._translate(err, action, key=key) from err
        except (MinioException, urllib3.exceptions.HTTPError, OSError, ValueError) as err:
            raise self._translate(err, action, key=key) from err

    def _translate(self, err: BaseException, action: str, *, key: str | None = None) -> StoreError | NotFound:
        where = f"bucket {self.bucket!r} at {self.endpoint}"
        attempts = self.retries + 1  # a transient failure reaches here only once every retry is spent
        if isinstance(err, S3Error):
            if err.code in _NOT_FOUND_CODES and key is not None:
                return NotFound(f"no object {key!r} in {where}")
            if err.code == "NoSuchBucket":
                return StoreError(f"cannot {action}: {where} does not exist (deleted while in use?); "
                                  f"restart ecm to create it, or check [store] bucket")
            if err.code in _ACCESS_CODES:
                return StoreError(f"cannot {action}: {self.endpoint} denied access to {where} ({err.code}); "
                                  f"check ECM_S3_ACCESS_KEY / ECM_S3_SECRET_KEY and the bucket policy")
            if _is_transient(err):
                return StoreError(f"cannot {action}: {self.endpoint} kept failing ({err.code}: {err.message}) "
                                  f"after {attempts} attempts; check the S3 server's health and logs")
            return StoreError(f"cannot {action} ({where}): S3 refused ({err.code}: {err.message})")
        if isinstance(err, ValueError):
            return StoreError(f"cannot {action} ({where}): {err}")
        cause = _root_cause(err)
        if isinstance(cause, urllib3.exceptions.SSLError):
            return StoreError(f"cannot {action}: TLS with {self.endpoint} failed ({cause}); check ECM_S3_SECURE "
                              f"(false for a plain-HTTP server) and the server's certificate (SSL_CERT_FILE)")
        if _is_transient(err):
            return StoreError(f"cannot {action}: no answer from {self.endpoint} after {attempts} attempts "
                              f"({type(cause).__name__}: {cause}); check that the S3 server is running and "
                              f"reachable, and ECM_S3_ENDPOINT / ECM_S3_SECURE")
        return StoreError(f"cannot {action} ({where}): {type(cause).__name__}: {cause}")
