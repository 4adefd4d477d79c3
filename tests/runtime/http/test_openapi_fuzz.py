"""schemathesis against `durable serve`: requests generated from the OpenAPI document never
get a 5xx, and every response conforms to it (status codes, content types, headers and
bodies). The document is the one the server serves at /openapi.json."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from durableflow.runtime.http import openapi_document
from tests.runtime.http.served import Served

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SCHEMA = schemathesis.openapi.from_dict(openapi_document())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


def test_the_served_document_is_the_one_fuzzed(served: Served) -> None:
    assert httpx.get(f"{served.url}/openapi.json").json() == openapi_document()


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_operation_conforms_to_the_document(operation: Any, served: Served) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=6,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Case) -> None:
        case.call_and_validate(base_url=served.url, checks=CHECKS)

    check()
