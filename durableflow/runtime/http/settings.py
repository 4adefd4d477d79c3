"""How the HTTP front is configured, and the start-up checks on it."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field

from durableflow.core.errors import DurableflowError

__all__ = ["API_KEY_ENV", "HttpSettings", "UnsafeBindError", "check_bind"]

API_KEY_ENV = "DURABLEFLOW_API_KEY"
"""Environment variable read for the API key when none is passed."""


class UnsafeBindError(DurableflowError):
    """Serving on a non-loopback address without an API key."""


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Settings of :func:`~durableflow.runtime.http.create_app`.

    Attributes:
        api_key: when set, every API request must carry it (``x-functions-key`` header,
            ``x-api-key`` header, or Durable Functions' ``code`` query parameter).
        max_body_bytes: request bodies larger than this are refused with 413.
        cors_origins: origins allowed to call the API from a browser; none by default.
        retry_after_start: ``Retry-After`` seconds on a start's 202 (Durable Functions: 10).
        retry_after_status: ``Retry-After`` seconds on a running instance's 202 (5).
        max_wait: the longest ``?timeout=`` a start may wait, in seconds.
    """

    api_key: str | None = None
    max_body_bytes: int = 1024 * 1024
    cors_origins: tuple[str, ...] = field(default=())
    retry_after_start: int = 10
    retry_after_status: int = 5
    max_wait: float = 300.0

    @classmethod
    def from_env(
        cls,
        api_key: str | None = None,
        *,
        max_body_bytes: int = 1024 * 1024,
        cors_origins: tuple[str, ...] = (),
    ) -> HttpSettings:
        """Settings with ``api_key`` or, when it is None, ``$DURABLEFLOW_API_KEY``."""
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV) or None
        return cls(api_key=key, max_body_bytes=max_body_bytes, cors_origins=cors_origins)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, settings: HttpSettings) -> None:
    """Refuse to serve on a non-loopback ``host`` without an API key.

    Raises:
        UnsafeBindError: with how to set a key.
    """
    if settings.api_key or is_loopback(host):
        return
    raise UnsafeBindError(
        f"refusing to serve on {host} without an API key: anyone who can reach it could "
        f"start, terminate and purge instances. Pass --api-key KEY (or set {API_KEY_ENV}), "
        "or bind to 127.0.0.1"
    )
