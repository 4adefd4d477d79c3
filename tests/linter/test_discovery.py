"""Tests for the shared orchestrator discovery."""

from __future__ import annotations

import libcst as cst
import pytest

from durableflow.discovery import DiscoveryConfig, find_orchestrators

SOURCE = """
import durableflow as df
from durableflow import OrchestrationContext as OC
import azure.durable_functions as adf
from durabletask import task, worker

app = df.App()
my_app = adf.DFApp()


@app.orchestrator
def plain(ctx, inp):
    yield ctx.call_activity("x")


@app.orchestrator(name="renamed")
def named(ctx: df.OrchestrationContext, inp):
    yield ctx.call_activity("x")


@app.activity
def an_activity(ctx: OC, x):
    yield 1


def annotated(ctx: OC, inp):
    yield ctx.call_activity("x")


def not_a_generator(ctx: OC):
    return ctx.instance_id


@my_app.orchestration_trigger(context_name="context")
def azure_trigger(context):
    yield context.call_activity("x")


def azure_created(context: adf.DurableOrchestrationContext):
    yield context.call_activity("x")


main = adf.Orchestrator.create(azure_created)


def dt_annotated(ctx: task.OrchestrationContext, _):
    yield ctx.call_activity("x")


def dt_registered(ctx, _):
    yield ctx.call_activity("x")


def dt_named(ctx, _):
    yield ctx.call_activity("x")


def run():
    with worker.TaskHubGrpcWorker() as w:
        w.add_orchestrator(dt_registered)
        w.add_named_orchestrator("custom_name", dt_named)


@workflow
def configured(ctx):
    yield 1


def listed(ctx):
    yield 1


class Holder:
    @app.orchestrator
    def method(self, ctx, x):
        yield 1
"""


@pytest.fixture(scope="module")
def found() -> dict[str, tuple[str, str, str | None]]:
    module = cst.parse_module(SOURCE)
    config = DiscoveryConfig(decorators=("workflow",), explicit=("listed",))
    return {
        d.function_name: (d.name, d.style, d.ctx_param) for d in find_orchestrators(module, config)
    }


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        ("plain", ("plain", "durableflow", "ctx")),
        ("named", ("renamed", "durableflow", "ctx")),
        ("annotated", ("annotated", "annotation", "ctx")),
        ("azure_trigger", ("azure_trigger", "azure", "context")),
        ("azure_created", ("azure_created", "azure", "context")),
        ("dt_annotated", ("dt_annotated", "durabletask", "ctx")),
        ("dt_registered", ("dt_registered", "durabletask", "ctx")),
        ("dt_named", ("custom_name", "durabletask", "ctx")),
        ("configured", ("configured", "config", "ctx")),
        ("listed", ("listed", "config", "ctx")),
        ("Holder.method", ("method", "durableflow", "ctx")),
    ],
)
def test_discovers_orchestrator_style(
    found: dict[str, tuple[str, str, str | None]],
    function: str,
    expected: tuple[str, str, str | None],
) -> None:
    assert found[function] == expected


@pytest.mark.parametrize("function", ["an_activity", "not_a_generator", "run"])
def test_does_not_discover_non_orchestrators(
    found: dict[str, tuple[str, str, str | None]], function: str
) -> None:
    assert function not in found


def test_returned_nodes_are_the_module_nodes() -> None:
    module = cst.parse_module(
        "import durableflow as df\n@app.orchestrator\ndef o(ctx, x):\n    yield 1\n"
    )
    (definition,) = find_orchestrators(module)
    assert definition.node is module.body[1]


def test_relative_import_of_context_resolves_with_module_name() -> None:
    source = "from .. import OrchestrationContext\ndef o(ctx: OrchestrationContext):\n    yield 1\n"
    module = cst.parse_module(source)
    assert find_orchestrators(module, module_name="durableflow.sub.mod")
    assert not find_orchestrators(module, module_name="other.sub.mod")


def test_metadata_can_be_looked_up_for_returned_nodes() -> None:
    from libcst.metadata import MetadataWrapper, PositionProvider

    module = cst.parse_module(SOURCE)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    lines = [positions[d.node].start.line for d in find_orchestrators(module)]
    assert lines == sorted(lines) and lines[0] == 12


def test_package_internals_are_not_orchestrators() -> None:
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "durableflow"
    for path in sorted(package.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "rchestrat" not in source:
            continue
        relative = path.relative_to(package.parent).with_suffix("")
        name = ".".join(relative.parts).removesuffix(".__init__")
        assert find_orchestrators(cst.parse_module(source), module_name=name) == [], path
