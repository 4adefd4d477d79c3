"""The HTTP front: Durable Functions' management API, its OpenAPI document and a dashboard,
as an ASGI app (Starlette) to serve with ``durable serve`` or mount in a service of your own.

Needs the ``server`` extra (``pip install 'durableflow[server]'``).
"""

from __future__ import annotations

from durableflow.runtime.http.app import create_app
from durableflow.runtime.http.drawing import Drawings, SvgRenderer
from durableflow.runtime.http.openapi import openapi_document
from durableflow.runtime.http.payloads import BASE_PATH
from durableflow.runtime.http.serving import serve
from durableflow.runtime.http.settings import API_KEY_ENV, HttpSettings, UnsafeBindError, check_bind

__all__ = [
    "API_KEY_ENV",
    "BASE_PATH",
    "Drawings",
    "HttpSettings",
    "SvgRenderer",
    "UnsafeBindError",
    "check_bind",
    "create_app",
    "openapi_document",
    "serve",
]
