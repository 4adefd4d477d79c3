"""API keys, body limits and JSON errors for the HTTP front."""

from __future__ import annotations

import hmac
import json
from http import HTTPStatus
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "PROTECTED_PREFIXES",
    "ApiKeyMiddleware",
    "BodyTooLargeError",
    "error_response",
    "read_body",
    "route_path",
]

PROTECTED_PREFIXES = ("/runtime/", "/api/", "/dashboard/api/")
"""Paths that need the API key when one is set. The dashboard's pages, its static files,
``/openapi.json`` and ``/healthz`` hold no data and stay open, so a browser can load the page
that then asks for the key."""

KEY_HEADERS = ("x-functions-key", "x-api-key")


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """``{"error": <reason phrase>, "message": <what was wrong and what to do>}``, plus the
    same text as ``Message`` and ``ExceptionMessage``: the fields of the ASP.NET errors that
    Durable Functions answers with, which its Python client reads."""
    body = {
        "error": HTTPStatus(status).phrase,
        "message": message,
        "Message": message,
        "ExceptionMessage": message,
    }
    return JSONResponse(body, status, headers=headers)


def route_path(scope: Scope) -> str:
    """The request path below the app's mount point."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class ApiKeyMiddleware:
    """Refuse API requests that do not carry ``key``, comparing in constant time."""

    def __init__(self, app: ASGIApp, key: str) -> None:
        self.app = app
        self._key = key.encode("utf-8")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not route_path(scope).startswith(PROTECTED_PREFIXES):
            await self.app(scope, receive, send)
            return
        if self._given_key_matches(scope):
            await self.app(scope, receive, send)
            return
        response = error_response(
            401,
            "this server needs an API key: send it in the x-functions-key header or the "
            "code query parameter (it is the value of --api-key or DURABLEFLOW_API_KEY)",
            headers={"WWW-Authenticate": 'ApiKey header="x-functions-key"'},
        )
        await response(scope, receive, send)

    def _given_key_matches(self, scope: Scope) -> bool:
        candidates: list[bytes] = []
        for name, value in scope.get("headers", []):
            if name.decode("latin-1").lower() in KEY_HEADERS:
                candidates.append(value)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        candidates += [v.encode("latin-1", "replace") for v in query.get("code", [])]
        # Compare every candidate, so the time taken does not say which one was close.
        matched = False
        for candidate in candidates:
            matched |= hmac.compare_digest(candidate, self._key)
        return matched


class BodyTooLargeError(Exception):
    """A request body went past the configured limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"request body is larger than the limit of {limit} bytes; send a smaller payload "
            "or raise the limit (--max-body-bytes)"
        )


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, read in chunks and refused as soon as it passes ``limit`` bytes.

    Raises:
        BodyTooLargeError: the Content-Length or the bytes received exceed ``limit``.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(limit)
        chunks.append(chunk)
    return b"".join(chunks)


class BadJsonError(ValueError):
    """A request body that is not JSON."""


def parse_json(body: bytes) -> object:
    """The JSON value of ``body`` (None when empty).

    Raises:
        BadJsonError: the body is not UTF-8 JSON (the message says where it broke).
    """
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadJsonError(
            f"request body is not valid JSON ({exc}); send a JSON value such as "
            '{"key": "value"}, "text" or 42, or no body at all for null'
        ) from None
