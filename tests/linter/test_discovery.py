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


def _discover(source: str, **kwargs: object) -> dict[str, tuple[str, str, str | None, str]]:
    module = cst.parse_module(source)
    return {
        d.function_name: (d.name, d.style, d.ctx_param, d.api)
        for d in find_orchestrators(module, **kwargs)  # type: ignore[arg-type]
    }


NESTED = """
from durabletask import task, worker

def test_orchestrator_inputs():
    def orchestrator(ctx: task.OrchestrationContext, my_input: int):
        return my_input, ctx.instance_id

    def plain(ctx, _):
        yield ctx.call_activity("x")

    with worker.TaskHubGrpcWorker() as w:
        w.add_orchestrator(orchestrator)
        w.add_named_orchestrator("renamed", plain)
"""


def test_orchestrators_defined_inside_a_test_function_are_found() -> None:
    found = _discover(NESTED)
    assert found == {
        "test_orchestrator_inputs.orchestrator": (
            "orchestrator",
            "durabletask",
            "ctx",
            "durabletask",
        ),
        "test_orchestrator_inputs.plain": ("renamed", "durabletask", "ctx", "durabletask"),
    }


DAPR = """
import dapr.ext.workflow as wf
from dapr.ext.workflow import DaprWorkflowContext

wfr = wf.WorkflowRuntime()

@wfr.workflow(name="hello_world_wf")
def hello_world_wf(ctx: DaprWorkflowContext, wf_input):
    yield ctx.call_activity(hello_act, input=1)

@wfr.activity(name="hello_act")
def hello_act(ctx, wf_input):
    return 1

def child_wf(ctx: DaprWorkflowContext, wf_input):
    yield ctx.call_activity(hello_act, input=2)

def registered_later(context, order):
    yield context.call_activity(hello_act, input=3)

wfr.register_workflow(registered_later, name="later")
"""


def test_dapr_workflows_are_found_by_decorator_annotation_and_registration() -> None:
    found = _discover(DAPR)
    assert found == {
        "hello_world_wf": ("hello_world_wf", "dapr", "ctx", "dapr"),
        "child_wf": ("child_wf", "dapr", "ctx", "dapr"),
        "registered_later": ("later", "dapr", "context", "dapr"),
    }


def test_annotated_async_helper_is_not_an_orchestrator() -> None:
    source = (
        "import durableflow as df\n"
        "async def fetch(ctx: df.OrchestrationContext, url):\n    return url\n"
    )
    assert _discover(source) == {}


def test_generator_helper_called_by_an_orchestrator_is_a_helper() -> None:
    source = (
        "import durableflow as df\napp = df.App()\n"
        "def charge(ctx: df.OrchestrationContext, order):\n"
        "    yield ctx.call_activity('charge', order)\n"
        "@app.orchestrator\ndef checkout(ctx, order):\n"
        "    yield from charge(ctx, order)\n"
    )
    assert set(_discover(source)) == {"checkout"}


@pytest.mark.parametrize("spelling", ["factory.inner", "factory.<locals>.inner", "m:factory.inner"])
def test_explicit_list_names_a_nested_function(spelling: str) -> None:
    source = "def factory():\n    def inner(ctx, x):\n        yield 1\n    return inner\n"
    found = _discover(source, config=DiscoveryConfig(explicit=(spelling,)), module_name="m")
    assert set(found) == {"factory.inner"}


def test_api_of_a_configured_orchestrator_follows_the_module_imports() -> None:
    source = "from azure import durable_functions as adf\ndef listed(context):\n    yield 1\n"
    found = _discover(source, config=DiscoveryConfig(explicit=("listed",)))
    assert found["listed"][3] == "azure"


def test_registrations_of_imported_functions_are_reported_with_their_qualified_names() -> None:
    from durableflow.discovery import foreign_orchestrators

    source = (
        "import azure.durable_functions as df\n"
        "from app import flows\nfrom app.other import approve as approval\n"
        "main = df.Orchestrator.create(approval)\n"
        "def run(w, wfr):\n"
        "    w.add_orchestrator(flows.checkout)\n"
        "    wfr.register_workflow(flows.refund)\n"
    )
    found = foreign_orchestrators(cst.parse_module(source))
    assert sorted((name, r.style) for name, r in found) == [
        ("app.flows.checkout", "durabletask"),
        ("app.flows.refund", "dapr"),
        ("app.other.approve", "azure"),
    ]
