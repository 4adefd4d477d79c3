"""The OpenAPI 3 document served at ``/openapi.json``: every route of the management API
and the dashboard's JSON endpoints, with each status code a route answers. The suite fuzzes
the server against it (schemathesis), so a response this document does not describe fails
a test."""

from __future__ import annotations

from typing import Any

from durableflow.runtime.http.payloads import BASE_PATH, DF_STATUS, MANAGEMENT_KEYS

__all__ = ["openapi_document"]

_ANY: dict[str, Any] = {}
_JSON = "application/json"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str, **headers: str) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {_JSON: {"schema": schema}}}
    if headers:
        out["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return out


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _path(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": 1},
    }


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


_INSTANCE = _path("instanceId", "The instance id.")
_FUNCTION = _path("functionName", "The orchestrator to start.")
_BOOL = {"type": "boolean"}
_TIMEOUT = _query(
    "timeout",
    {"type": "number", "minimum": 0, "maximum": 300},
    "Wait up to this many seconds for the instance to end; 200 with its output if it "
    "completes in time, else the 202 payload.",
)
_POLLING = _query(
    "pollingInterval",
    {"type": "number", "minimum": 0.001, "maximum": 300},
    "Seconds between status checks while waiting (default 1).",
)
_REASON = _query("reason", {"type": "string"}, "Why; recorded in the history.")
_CREATED_FROM = _query(
    "createdTimeFrom", {"type": "string", "format": "date-time"}, "Created at or after."
)
_CREATED_TO = _query(
    "createdTimeTo", {"type": "string", "format": "date-time"}, "Created at or before."
)
_STATUSES = _query(
    "runtimeStatus",
    {"type": "string"},
    f"Comma list of {', '.join(DF_STATUS.values())}.",
)
_UNAUTHORIZED = _error("An API key is set and the request did not carry it.")
_MANAGEMENT = _json(
    _ref("ManagementPayload"),
    "Started: the instance's management links.",
    Location="The status URL (statusQueryGetUri).",
    **{"Retry-After": "Seconds to wait before polling."},
)


def _start_operation(summary: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "requestBody": {
            "required": False,
            "description": "The orchestrator's input (any JSON value; no body for null).",
            "content": {_JSON: {"schema": _ANY}},
        },
        "responses": {
            "200": _json(
                _ANY,
                "Waited (?timeout=) and the instance ended: its output if it "
                "completed, else its status.",
            ),
            "202": _MANAGEMENT,
            "400": _error("Bad instance id, body not JSON, or a bad query parameter."),
            "401": _UNAUTHORIZED,
            "404": _error("No orchestrator of that name."),
            "409": _error("A pending, running or suspended instance holds this id."),
            "413": _error("Body larger than the server's limit."),
        },
    }


def _start_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for prefix in ("/api/orchestrators", f"{BASE_PATH}/orchestrators"):
        paths[prefix + "/{functionName}"] = {
            "post": {
                **_start_operation("Start an instance with a new id."),
                "parameters": [_FUNCTION, _TIMEOUT, _POLLING],
            }
        }
        paths[prefix + "/{functionName}/{instanceId}"] = {
            "post": {
                **_start_operation("Start an instance with this id (singletons)."),
                "parameters": [_FUNCTION, _INSTANCE, _TIMEOUT, _POLLING],
            }
        }
    return paths


def _signal(summary: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "parameters": [_INSTANCE, _REASON],
            "responses": {
                "202": {"description": "Accepted; the instance acts on it at its next step."},
                "400": _error("Bad instance id."),
                "401": _UNAUTHORIZED,
                "404": _error("No such instance."),
                "410": _error("The instance has ended."),
            },
        }
    }


def _instance_paths() -> dict[str, Any]:
    inst = f"{BASE_PATH}/instances/{{instanceId}}"
    status_200 = _json(_ref("Status"), "The instance has ended (completed, failed, terminated).")
    return {
        f"{BASE_PATH}/instances": {
            "get": {
                "summary": "List instances, newest first.",
                "parameters": [
                    _STATUSES,
                    _CREATED_FROM,
                    _CREATED_TO,
                    _query("instanceIdPrefix", {"type": "string"}, "Ids starting with this."),
                    _query(
                        "namePrefix",
                        {"type": "string"},
                        "Orchestrator names starting with this (a durableflow extension).",
                    ),
                    _query(
                        "top",
                        {"type": "integer", "minimum": 1, "maximum": 1000},
                        "Page size (default 100).",
                    ),
                    _query("showInput", _BOOL, "Include inputs (default true)."),
                    {
                        "name": "x-ms-continuation-token",
                        "in": "header",
                        "required": False,
                        "description": "The previous page's token, for the next page.",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": _json(
                        {"type": "array", "items": _ref("Status")},
                        "One page of instances.",
                        **{"x-ms-continuation-token": "Present when there is a next page."},
                    ),
                    "400": _error("A bad filter or continuation token."),
                    "401": _UNAUTHORIZED,
                },
            },
            "delete": {
                "summary": "Purge ended instances created in a time range.",
                "parameters": [_CREATED_FROM, _CREATED_TO, _STATUSES],
                "responses": {
                    "200": _json(_ref("PurgeResult"), "How many were purged."),
                    "400": _error("createdTimeFrom missing, or a bad filter."),
                    "401": _UNAUTHORIZED,
                    "404": _error("No ended instance matched."),
                },
            },
        },
        inst: {
            "get": {
                "summary": "An instance's status (202 while it runs, 200 once it ended).",
                "parameters": [
                    _INSTANCE,
                    _query("showHistory", _BOOL, "Include historyEvents."),
                    _query("showHistoryOutput", _BOOL, "Include payloads in historyEvents."),
                    _query("showInput", _BOOL, "Include the input (default true)."),
                    _query(
                        "returnInternalServerErrorOnFailure",
                        _BOOL,
                        "Answer 500 for a failed instance.",
                    ),
                ],
                "responses": {
                    "200": status_200,
                    "202": _json(
                        _ref("Status"),
                        "Pending, running or suspended.",
                        Location="This status URL.",
                        **{"Retry-After": "Seconds to wait before polling again."},
                    ),
                    "400": _error("Bad instance id or query parameter."),
                    "401": _UNAUTHORIZED,
                    "404": _error("No such instance."),
                    "500": _json(_ref("Status"), "Failed, and returnInternalServerErrorOnFailure."),
                },
            },
            "delete": {
                "summary": "Purge one ended instance.",
                "parameters": [_INSTANCE],
                "responses": {
                    "200": _json(_ref("PurgeResult"), "Purged."),
                    "400": _error("Bad instance id."),
                    "401": _UNAUTHORIZED,
                    "404": _error("No such instance."),
                    "412": _error("The instance has not ended."),
                },
            },
        },
        inst + "/raiseEvent/{eventName}": {
            "post": {
                "summary": "Send an external event; the JSON body is its data.",
                "parameters": [_INSTANCE, _path("eventName", "The event's name.")],
                "requestBody": {"required": False, "content": {_JSON: {"schema": _ANY}}},
                "responses": {
                    "202": {"description": "Queued for the instance."},
                    "400": _error("Bad id, body not JSON, or not application/json."),
                    "401": _UNAUTHORIZED,
                    "404": _error("No such instance."),
                    "410": _error("The instance has ended."),
                    "413": _error("Body larger than the server's limit."),
                },
            }
        },
        inst + "/terminate": _signal("Terminate a running or suspended instance."),
        inst + "/suspend": _signal("Suspend an instance; events wait until it resumes."),
        inst + "/resume": _signal("Resume a suspended instance."),
        inst + "/restart": {
            "post": {
                "summary": "Start the instance's orchestrator again with its input.",
                "parameters": [
                    _INSTANCE,
                    _query("restartWithNewInstanceId", _BOOL, "New id (default true)."),
                    _TIMEOUT,
                    _POLLING,
                ],
                "responses": {
                    "200": _json(_ANY, "Waited and the new instance ended."),
                    "202": _MANAGEMENT,
                    "400": _error("Bad instance id or query parameter."),
                    "401": _UNAUTHORIZED,
                    "404": _error("No such instance, or its orchestrator is gone."),
                    "409": _error("Same id asked for and the instance has not ended."),
                },
            }
        },
    }


def _dashboard_paths() -> dict[str, Any]:
    return {
        "/dashboard/api/orchestrators": {
            "get": {
                "summary": "Orchestrator names (the dashboard's start form).",
                "responses": {
                    "200": _json(_ref("Orchestrators"), "The names."),
                    "401": _UNAUTHORIZED,
                },
            }
        },
        "/dashboard/api/instances/{instanceId}/graph": {
            "get": {
                "summary": "The instance drawn on its orchestrator's compiled graph.",
                "parameters": [_INSTANCE],
                "responses": {
                    "200": _json(_ref("Drawing"), "The SVG, or why there is none."),
                    "400": _error("Bad instance id."),
                    "401": _UNAUTHORIZED,
                    "404": _error("No such instance."),
                },
            }
        },
        "/healthz": {
            "get": {
                "summary": "Liveness.",
                "security": [],
                "responses": {"200": _json({"type": "object"}, "Serving.")},
            }
        },
    }


def _schemas() -> dict[str, Any]:
    nullable_text = {"type": ["string", "null"]}
    return {
        "Error": {
            "type": "object",
            "required": ["error", "message"],
            "properties": {
                "error": {"type": "string"},
                "message": {"type": "string"},
                "Message": {"type": "string"},
                "ExceptionMessage": {"type": "string"},
            },
        },
        "ManagementPayload": {
            "type": "object",
            "required": list(MANAGEMENT_KEYS),
            "properties": {key: {"type": "string"} for key in MANAGEMENT_KEYS},
        },
        "Status": {
            "type": "object",
            "required": [
                "name",
                "instanceId",
                "runtimeStatus",
                "input",
                "customStatus",
                "output",
                "createdTime",
                "lastUpdatedTime",
            ],
            "properties": {
                "name": {"type": "string"},
                "instanceId": {"type": "string"},
                "runtimeStatus": {"type": "string", "enum": list(DF_STATUS.values())},
                "input": _ANY,
                "customStatus": _ANY,
                "output": _ANY,
                "createdTime": {"type": "string"},
                "lastUpdatedTime": {"type": "string"},
                "failureDetails": {
                    "type": ["object", "null"],
                    "properties": {
                        "errorType": {"type": "string"},
                        "errorMessage": {"type": "string"},
                        "stackTrace": nullable_text,
                    },
                },
                "historyEvents": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["EventType", "Timestamp"],
                        "properties": {
                            "EventType": {"type": "string"},
                            "Timestamp": {"type": "string"},
                        },
                    },
                },
            },
        },
        "PurgeResult": {
            "type": "object",
            "required": ["instancesDeleted"],
            "properties": {"instancesDeleted": {"type": "integer", "minimum": 0}},
        },
        "Orchestrators": {
            "type": "object",
            "required": ["orchestrators"],
            "properties": {"orchestrators": {"type": "array", "items": {"type": "string"}}},
        },
        "Drawing": {
            "type": "object",
            "required": ["name", "svg", "reason", "states"],
            "properties": {
                "name": {"type": "string"},
                "svg": nullable_text,
                "reason": nullable_text,
                "states": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "string",
                        "enum": ["completed", "running", "failed", "not_reached"],
                    },
                },
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the HTTP front."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "durableflow management API",
            "version": "1",
            "description": "Durable Functions' HTTP management API (base path "
            f"{BASE_PATH}, starter route /api/orchestrators), served by `durable serve`.",
        },
        "paths": {**_start_paths(), **_instance_paths(), **_dashboard_paths()},
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "functionsKey": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
                "code": {"type": "apiKey", "in": "query", "name": "code"},
            },
        },
        "security": [{}, {"functionsKey": []}, {"code": []}],
    }
