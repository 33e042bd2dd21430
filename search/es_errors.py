"""Everything the ``elasticsearch`` client raises, translated at the boundary into ``SearchError``
with a message that says where (the server URL) and what to check.

Credentials never appear in a message: the URL is the node's base URL (the client keeps user
and password apart from it), and nothing from the request is echoed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import elastic_transport
import elasticsearch
from elasticsearch import helpers

from ecm.errors import SearchError

__all__ = ["server_urls", "translate", "translated_errors", "api_reason", "is_missing_index"]

_USERINFO = re.compile(r"//[^/@]*@")
_OS_ERROR = re.compile(r"\[Errno -?\d+\][^)\]'\"]*")


def _transport_cause(err: Exception) -> str:
    """The useful end of a transport error's nested text: "[Errno 111] Connection refused"."""
    text = " ".join([str(err), str(getattr(err, "message", "")), str(err.__cause__ or "")])
    found = _OS_ERROR.findall(text)
    if found:
        return found[-1].strip()
    return f"{type(err).__name__}: {str(err.__cause__ or err)[:200]}"


def server_urls(client: elasticsearch.Elasticsearch) -> str:
    """The nodes the client talks to, for messages (``http://127.0.0.1:9200``)."""
    try:
        urls = [_USERINFO.sub("//", node.base_url) for node in client.transport.node_pool.all()]
    except AttributeError:  # a client stand-in in tests
        urls = []
    return ", ".join(urls) or "the Elasticsearch server"


def api_reason(err: elasticsearch.ApiError) -> str:
    """The server's one-line reason (``no such index [ecm]``), else its error type."""
    body: Any = err.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        causes = error.get("root_cause") or []
        first = causes[0] if causes and isinstance(causes[0], dict) else error
        reason = first.get("reason") or error.get("reason")
        caused_by = error.get("caused_by", {}).get("reason") if isinstance(error.get("caused_by"), dict) else None
        text = reason or first.get("type") or str(err.message)
        return f"{text} ({caused_by})" if caused_by and caused_by not in text else text
    if isinstance(body, dict) and body.get("error"):
        return str(body["error"])
    return str(err.message)


def _error_type(err: elasticsearch.ApiError) -> str:
    """Elasticsearch's error type (``index_not_found_exception``); "" for a body that is not its error."""
    body: Any = err.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("type", ""))
    return ""


def is_missing_index(err: Exception) -> bool:
    """A 404 because the index or alias does not exist (nothing was ever indexed)."""
    if not isinstance(err, elasticsearch.NotFoundError):
        return False
    kind = _error_type(err) or str(err.message)
    return "index_not_found" in kind or ("alias" in kind and "missing" in kind)


def _bulk_reason(err: helpers.BulkIndexError) -> str:
    for item in err.errors:
        for op, result in item.items():
            error = result.get("error") if isinstance(result, dict) else None
            if isinstance(error, dict):
                return f"{op} of document {result.get('_id')!r}: {error.get('reason') or error.get('type')}"
            if error:
                return f"{op} of document {result.get('_id')!r}: {error}"
    return "see the server log"


def translate(err: Exception, action: str, client: elasticsearch.Elasticsearch, alias: str) -> SearchError:
    where = server_urls(client)
    if isinstance(err, elasticsearch.UnsupportedProductError):
        return SearchError(f"cannot {action}: the server at {where} is not Elasticsearch (or older than 7.14); "
                           f"check ECM_ES_URL")
    if isinstance(err, elasticsearch.AuthenticationException):
        return SearchError(f"cannot {action}: {where} refused the credentials (401); check ECM_ES_USERNAME / "
                           f"ECM_ES_PASSWORD or ECM_ES_API_KEY")
    if isinstance(err, elasticsearch.AuthorizationException):
        return SearchError(f"cannot {action}: the Elasticsearch user may not do this on {alias!r} at {where} (403: "
                           f"{api_reason(err)}); grant it read, write, create_index and manage on "
                           f"'{alias}' and '{alias}-*'")
    if isinstance(err, elasticsearch.ApiError):
        reason = api_reason(err)
        status = err.meta.status if err.meta is not None else "?"
        if not (isinstance(err.body, dict) and err.body.get("error")):
            # Not an Elasticsearch error body: a proxy, a wrong path or another server answered.
            return SearchError(f"cannot {action}: {where} answered {status} without an Elasticsearch error; is "
                               f"ECM_ES_URL the cluster itself (not a proxy path or another service)?")
        if "media_type_header" in _error_type(err) or "compatible-with" in reason or "Accept version" in reason:
            return SearchError(f"cannot {action}: {where} does not accept this client's version ({reason}); the "
                               f"elasticsearch {elasticsearch.__versionstr__} Python client needs an Elasticsearch "
                               f"{elasticsearch.__versionstr__.split('.')[0]}.x server")
        if status == 429 or (isinstance(status, int) and status >= 500):
            return SearchError(f"cannot {action}: {where} is overloaded or failing ({status}: {reason}); "
                               f"retry later and check the cluster health (GET _cluster/health) and its logs")
        return SearchError(f"cannot {action} (index {alias!r} at {where}): Elasticsearch refused ({status}: {reason})")
    if isinstance(err, helpers.BulkIndexError):
        return SearchError(f"cannot {action}: {len(err.errors)} document(s) were refused by {where} "
                           f"(first: {_bulk_reason(err)})")
    if isinstance(err, elasticsearch.SerializationError):
        return SearchError(f"cannot {action}: the answer of {where} could not be read ({err}); is ECM_ES_URL an "
                           f"Elasticsearch server?")
    if isinstance(err, elastic_transport.TlsError):
        cause = str(err.__cause__ or err)[:300]
        return SearchError(f"cannot {action}: TLS with {where} failed ({cause}); check ECM_ES_URL (http vs https) "
                           f"and ECM_ES_CA_CERTS (the CA that signed the cluster's certificate)")
    if isinstance(err, elasticsearch.TransportError):
        return SearchError(f"cannot {action}: no answer from {where} ({_transport_cause(err)}); check that "
                           f"Elasticsearch is running and reachable, and ECM_ES_URL")
    return SearchError(f"cannot {action} (index {alias!r} at {where}): {type(err).__name__}: {err}")


@contextmanager
def translated_errors(action: str, client: elasticsearch.Elasticsearch, alias: str) -> Iterator[None]:
    """Run the block; any client error leaves it as a ``SearchError`` (chained to the original)."""
    try:
        yield
    except SearchError:
        raise
    except (elasticsearch.ApiError, elasticsearch.TransportError, helpers.BulkIndexError) as err:
        raise translate(err, action, client, alias) from err
