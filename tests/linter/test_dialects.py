"""Messages and rewrites in the API a file is written against."""

from __future__ import annotations

import textwrap

import pytest

from durableflow.linter import LintConfig, lint_source
from durableflow.linter.fixes import fix_source

DURABLETASK = """
import time
import uuid
from datetime import datetime, timezone

from durabletask import task


def orchestrator(context: task.OrchestrationContext, order):
    {body}
    yield context.call_activity("ship", input=order)
"""

AZURE = """
import logging
import uuid

import azure.durable_functions as df

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def orchestrator(context: df.DurableOrchestrationContext):
    {body}
    yield context.call_activity("ship", 1)
"""

DAPR = """
import logging
import uuid

import dapr.ext.workflow as wf

wfr = wf.WorkflowRuntime()


@wfr.workflow
def orchestrator(ctx: wf.DaprWorkflowContext, order):
    {body}
    yield ctx.call_activity(ship, input=order)
"""


def _module(template: str, body: str) -> str:
    return textwrap.dedent(template).replace("{body}", body)


def _fixed(template: str, body: str, *, unsafe: bool = False) -> str:
    source = _module(template, body)
    return fix_source(source, "m.py", "m", LintConfig(), unsafe=unsafe).source


def _messages(template: str, body: str) -> list[str]:
    return [f.message for f in lint_source(_module(template, body))]


def test_messages_name_the_context_parameter_as_the_user_wrote_it() -> None:
    (message,) = _messages(AZURE, "x = str(uuid.uuid4())")
    assert message.endswith("use `context.new_uuid()`")


@pytest.mark.parametrize(
    ("template", "fan_in"), [(DURABLETASK, "task.when_all"), (DAPR, "wf.when_all")]
)
def test_fan_in_advice_uses_when_all_where_the_sdk_has_it(template: str, fan_in: str) -> None:
    messages = _messages(template, "tasks = [1, 2]\n    yield [order, order]")
    assert any(fan_in in m for m in messages), messages
    assert not any("task_all" in m for m in messages)


@pytest.mark.parametrize("template", [AZURE, DAPR])
def test_logging_advice_outside_durableflow_has_no_ctx_logger(template: str) -> None:
    (message,) = _messages(template, 'logging.info("start")')
    assert "logger" not in message.split(";")[1]
    assert "is_replaying" in message


def test_durableflow_logging_advice_keeps_ctx_logger() -> None:
    source = (
        "import logging\nimport durableflow as df\napp = df.App()\n@app.orchestrator\n"
        "def o(ctx, x):\n    logging.info('a')\n    yield ctx.call_activity('a')\n"
    )
    (finding,) = lint_source(source)
    assert "`ctx.logger`" in finding.message


def test_durabletask_clock_advice_says_it_is_naive() -> None:
    (message,) = _messages(DURABLETASK, "now = datetime.now()")
    assert "`context.current_utc_datetime` (naive UTC)" in message


def test_dapr_uuid_advice_does_not_offer_new_uuid() -> None:
    (message,) = _messages(DAPR, "x = uuid.uuid4()")
    assert "new_uuid" not in message and "`ctx.instance_id`" in message


def test_dapr_uuid_is_not_rewritten() -> None:
    body = "x = str(uuid.uuid4())"
    assert _fixed(DAPR, body, unsafe=True) == _module(DAPR, body)


@pytest.mark.parametrize("template", [AZURE, DURABLETASK])
def test_str_of_uuid4_becomes_new_uuid_where_it_returns_str(template: str) -> None:
    fixed = _fixed(template, "order_id = str(uuid.uuid4())")
    assert "order_id = context.new_uuid()\n" in fixed


@pytest.mark.parametrize("template", [AZURE, DURABLETASK])
def test_uuid4_hex_becomes_new_uuid_without_dashes_where_it_returns_str(template: str) -> None:
    fixed = _fixed(template, "key = uuid.uuid4().hex")
    assert 'key = context.new_uuid().replace("-", "")\n' in fixed


def test_uuid4_hex_in_durableflow_drops_the_dashes_of_new_uuid() -> None:
    source = (
        "import uuid\nimport durableflow as df\napp = df.App()\n@app.orchestrator\n"
        "def o(ctx, x):\n    key = uuid.uuid4().hex\n    yield ctx.call_activity('a', key)\n"
    )
    fixed = fix_source(source, "m.py", "m", LintConfig()).source
    assert 'key = ctx.new_uuid().replace("-", "")\n' in fixed


@pytest.mark.parametrize("template", [AZURE, DURABLETASK])
def test_other_uuid_attributes_are_not_rewritten(template: str) -> None:
    body = "n = uuid.uuid4().int"
    assert _fixed(template, body, unsafe=True) == _module(template, body)


@pytest.mark.parametrize("template", [AZURE, DURABLETASK])
def test_bare_uuid4_changes_type_so_only_unsafe_fixes_rewrite_it(template: str) -> None:
    body = "order_id = uuid.uuid4()"
    assert _fixed(template, body) == _module(template, body)
    assert "order_id = context.new_uuid()\n" in _fixed(template, body, unsafe=True)


def test_aware_now_in_durabletask_keeps_its_timezone() -> None:
    fixed = _fixed(DURABLETASK, "now = datetime.now(timezone.utc)")
    assert "now = context.current_utc_datetime.replace(tzinfo=timezone.utc)\n" in fixed


def test_utcnow_in_durabletask_is_a_safe_fix() -> None:
    fixed = _fixed(DURABLETASK, "now = datetime.utcnow()")
    assert "now = context.current_utc_datetime\n" in fixed


def test_time_in_durabletask_reads_the_naive_clock_as_utc() -> None:
    fixed = _fixed(DURABLETASK, "stamp = time.time()")
    assert "stamp = context.current_utc_datetime.replace(tzinfo=timezone.utc).timestamp()" in fixed


def test_helper_messages_keep_the_generic_context_name_in_the_sdk_wording() -> None:
    source = (
        _module(DURABLETASK, "x = pick(order)") + "\n\ndef pick(order):\n    return time.time()\n"
    )
    (finding,) = lint_source(source)
    assert "`ctx.current_utc_datetime.replace(tzinfo=timezone.utc).timestamp()`" in finding.message
