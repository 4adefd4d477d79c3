"""Qualified-name resolution: aliases, from-imports, local imports, references, look-alikes."""

from __future__ import annotations

import textwrap

import pytest

from durableflow.linter import lint_source


def codes(body: str, imports: str = "") -> list[tuple[int, str]]:
    source = (
        "import durableflow as df\n"
        + textwrap.dedent(imports)
        + "\napp = df.App()\n\n@app.orchestrator\ndef orch(ctx, data):\n"
        + textwrap.indent(textwrap.dedent(body), "    ")
    )
    return [(f.span.line, f.code) for f in lint_source(source)]


@pytest.mark.parametrize(
    ("imports", "body"),
    [
        ("import datetime\n", "x = datetime.datetime.now()\nyield ctx.call_activity('a', x)\n"),
        ("import datetime as d\n", "x = d.datetime.now()\nyield ctx.call_activity('a', x)\n"),
        (
            "from datetime import datetime\n",
            "x = datetime.now()\nyield ctx.call_activity('a', x)\n",
        ),
        (
            "from datetime import datetime as DT\n",
            "x = DT.now()\nyield ctx.call_activity('a', x)\n",
        ),
        (
            "",
            "from datetime import datetime\nx = datetime.now()\nyield ctx.call_activity('a', x)\n",
        ),
    ],
    ids=["module", "module-alias", "from-import", "from-import-alias", "local-import"],
)
def test_clock_is_found_through_every_import_form(imports: str, body: str) -> None:
    assert "DUR001" in {code for _, code in codes(body, imports)}


def test_reference_is_reported_where_written_not_where_called() -> None:
    found = codes("r = random.random\nyield ctx.call_activity('a', r())\n", "import random\n")
    assert found == [(8, "DUR003")]


def test_local_variable_shadowing_a_module_name_is_not_the_module() -> None:
    body = "random = data['rng']\nyield ctx.call_activity('a', random.random())\n"
    assert codes(body, "import random\n") == []


def test_uuid5_is_deterministic_and_not_flagged() -> None:
    body = "k = uuid.uuid5(uuid.NAMESPACE_DNS, 'x')\nyield ctx.call_activity('a', str(k))\n"
    assert codes(body, "import uuid\n") == []


def test_seeded_random_passed_in_is_not_flagged() -> None:
    source = textwrap.dedent(
        """
        import random
        import durableflow as df

        app = df.App()

        def pick(rng: random.Random, items):
            return rng.choice(items)

        @app.orchestrator
        def orch(ctx, data):
            choice = pick(random.Random(data["seed"]), data["items"])
            yield ctx.call_activity("use", choice)
        """
    )
    assert lint_source(source) == []


def test_dict_iteration_is_not_hash_order() -> None:
    body = "for k in data['d']:\n    yield ctx.call_activity('a', k)\n"
    assert codes(body) == []


def test_same_name_from_another_module_is_not_flagged() -> None:
    body = "x = now()\nyield ctx.call_activity('a', x)\n"
    assert codes(body, "from myclock import now\n") == []


def test_extended_banned_api_is_flagged_with_its_code() -> None:
    from durableflow.linter import LintConfig

    config = LintConfig(
        extend_banned_apis=(("myclock.now", "DUR001", "reads the wall clock", "`ctx.now`"),)
    )
    source = (
        "import durableflow as df\nfrom myclock import now\napp = df.App()\n\n"
        "@app.orchestrator\ndef orch(ctx, data):\n    yield ctx.call_activity('a', now())\n"
    )
    (finding,) = lint_source(source, config=config)
    assert finding.code == "DUR001"
    assert finding.message == "`myclock.now` reads the wall clock; use `ctx.now`"


def test_constant_defined_per_branch_is_not_a_reassigned_global() -> None:
    source = textwrap.dedent(
        """
        import sys
        import durableflow as df

        if sys.version_info >= (3, 12):
            LIMIT = 10
        else:
            LIMIT = 5
        try:
            import ujson as json
        except ImportError:
            json = None

        app = df.App()

        @app.orchestrator
        def orch(ctx, data):
            yield ctx.call_activity("a", [LIMIT, json is None])
        """
    )
    assert lint_source(source) == []


def test_global_reassigned_in_sequence_or_loop_is_flagged() -> None:
    source = textwrap.dedent(
        """
        import durableflow as df

        MODE = "a"
        for _ in range(3):
            COUNT = _
        MODE = "b"
        app = df.App()

        @app.orchestrator
        def orch(ctx, data):
            yield ctx.call_activity("a", [MODE, COUNT])
        """
    )
    assert [(f.span.line, f.code) for f in lint_source(source)] == [(12, "DUR009"), (12, "DUR009")]


@pytest.mark.parametrize(
    "guarded",
    [
        "if not ctx.is_replaying:\n    print('x')\n",
        "if ctx.is_replaying:\n    pass\nelse:\n    print('x')\n",
        "if not ctx.is_replaying and data:\n    print('x')\n",
    ],
    ids=["not-replaying", "else-of-replaying", "and-condition"],
)
def test_logging_under_a_replay_guard_is_not_flagged(guarded: str) -> None:
    assert codes(guarded + "yield ctx.call_activity('a', data)\n") == []


def test_logging_under_an_unrelated_condition_is_flagged() -> None:
    found = codes("if data:\n    print('x')\nyield ctx.call_activity('a', data)\n")
    assert found == [(8, "DUR012")]
