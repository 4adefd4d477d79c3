"""Node ids do not move when comments, logging or pure assignments are inserted elsewhere."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from durableflow.compiler import compile_source

CASES = sorted((Path(__file__).parent / "cases").glob("*.py"))

_FILLERS = [
    "# an inserted comment\n",
    'ctx.logger.info("inserted log line")\n',
    "_df_probe_{n} = {n}\n",
    "_df_probe_{n} = [{n}, 'x']  # with a comment\n",
]


class _Blocks(cst.CSTVisitor):
    def __init__(self) -> None:
        self.count = 0

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.count += 1


class _Insert(cst.CSTTransformer):
    """Inserts filler statements at (block index, position) pairs, in visiting order."""

    def __init__(self, plan: list[tuple[int, int, int]]) -> None:
        self.plan = plan
        self.index = -1
        self.order: dict[int, int] = {}

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.index += 1
        self.order[id(node)] = self.index

    def leave_IndentedBlock(
        self, original: cst.IndentedBlock, updated: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        mine = self.order[id(original)]
        body = list(updated.body)
        for n, (block, position, filler) in enumerate(self.plan):
            if block != mine:
                continue
            text = _FILLERS[filler].format(n=n)
            stmt = cst.parse_module(text).body
            if stmt:
                body.insert(min(position, len(body)), stmt[0])
            else:  # a comment alone: attach it as a leading line of a statement
                at = min(position, len(body) - 1)
                comment = cst.EmptyLine(comment=cst.Comment("# an inserted comment"))
                target = body[at]
                if isinstance(target, cst.SimpleStatementLine | cst.BaseCompoundStatement):
                    body[at] = target.with_changes(leading_lines=[*target.leading_lines, comment])
        return updated.with_changes(body=body)


def _stable_ids(source: str) -> dict[str, set[str]]:
    return {
        g.name: {n.id for n in g.nodes() if not (n.kind == "assign" and "_df_probe" in n.label)}
        - {n.id for n in g.nodes() if n.op == "pass"}
        for g in compile_source(source)
    }


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
@settings(settings.get_profile("compiler-properties"), max_examples=20)
@given(data=st.data())
def test_inserting_comments_logging_and_pure_assignments_keeps_node_ids(
    path: Path, data: st.DataObject
) -> None:
    source = path.read_text("utf-8")
    module = cst.parse_module(source)
    counter = _Blocks()
    module.visit(counter)
    plan = data.draw(
        st.lists(
            st.tuples(
                st.integers(0, counter.count - 1),
                st.integers(0, 12),
                st.integers(0, len(_FILLERS) - 1),
            ),
            min_size=1,
            max_size=4,
        ),
        label="insertions",
    )
    changed = module.visit(_Insert(plan)).code
    before = _stable_ids(source)
    after = _stable_ids(changed)
    assert before == after
