"""Typed errors with actionable messages. Library code raises these; only the CLI turns
them into exit codes (see ``ExitCode``)."""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "ExitCode",
    "EcmError",
    "ConfigError",
    "BadInput",
    "NotFound",
    "StoreError",
    "IntegrityError",
    "SearchError",
    "QuerySyntaxError",
]


class ExitCode(IntEnum):
    ok = 0
    usage = 2  # bad arguments or query syntax
    not_found = 3
    config = 4
    store = 5
    search = 6
    internal = 70


class EcmError(Exception):
    """Base class: ``str(err)`` is one line that says what happened and what to do."""

    exit_code = ExitCode.internal


class ConfigError(EcmError):
    exit_code = ExitCode.config


class BadInput(EcmError):
    """An input that cannot be processed; the message is the quarantine reason."""

    exit_code = ExitCode.ok  # quarantining is a handled outcome, not a failure


class NotFound(EcmError):
    exit_code = ExitCode.not_found


class StoreError(EcmError):
    exit_code = ExitCode.store


class IntegrityError(StoreError):
    """A stored object no longer matches its checksum."""


class SearchError(EcmError):
    exit_code = ExitCode.search


class QuerySyntaxError(SearchError):
    exit_code = ExitCode.usage
