"""Errors as friendly pages (or JSON for the API), never a traceback.

``NotFound`` -> 404, ``QuerySyntaxError`` -> 400, any other ``EcmError`` -> 500 with its one-line
message; unknown routes -> 404; bad parameters -> 400 page (422 JSON in the API).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ecm.errors import EcmError, NotFound, QuerySyntaxError
from web.context import context_of, is_api_path

__all__ = ["error_response", "add_error_handlers"]

_TITLES = {400: "Bad request", 401: "Not signed in", 403: "Forbidden", 404: "Not found",
           405: "Method not allowed", 422: "Bad request", 500: "Something went wrong"}


def _one_line(message: object) -> str:
    lines = str(message).strip().splitlines()
    return lines[0] if lines else ""


def error_response(request: Request, status: int, message: str) -> Response:
    if is_api_path(request.url.path):
        return JSONResponse({"error": message}, status_code=status)
    return context_of(request).templates.TemplateResponse(
        request, "error.html", {"title": _TITLES.get(status, "Error"), "message": message, "status": status},
        status_code=status,
    )


async def _not_found(request: Request, err: NotFound) -> Response:
    return error_response(request, 404, _one_line(err))


async def _bad_query(request: Request, err: QuerySyntaxError) -> Response:
    return error_response(request, 400, _one_line(err))


async def _ecm_error(request: Request, err: EcmError) -> Response:
    return error_response(request, 500, _one_line(err) or type(err).__name__)


async def _http_error(request: Request, err: StarletteHTTPException) -> Response:
    if err.status_code == 404:
        return error_response(request, 404, "There is no page at this address.")
    return error_response(request, err.status_code, _one_line(err.detail))


async def _bad_parameters(request: Request, err: RequestValidationError) -> Response:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()) if p not in ('query', 'path', 'body'))}: {e.get('msg')}"
        for e in err.errors()
    )
    if is_api_path(request.url.path):
        return JSONResponse({"error": f"invalid parameters: {problems}"}, status_code=422)
    return error_response(request, 400, f"Invalid parameters: {problems}")


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(QuerySyntaxError, _bad_query)
    app.add_exception_handler(EcmError, _ecm_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _bad_parameters)
