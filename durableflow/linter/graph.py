"""The call graph from orchestrators to helpers (networkx), and the chain shown in messages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import networkx as nx

from durableflow.linter.ftypes import ModuleResult

__all__ = ["call_chains"]


def call_chains(
    results: Iterable[ModuleResult], aliases: Mapping[str, str] | None = None
) -> dict[str, tuple[str, ...]]:
    """Map every function reachable from an orchestrator to its shortest call chain.

    The chain starts at an orchestrator and ends at the function. Cycles (mutual recursion) are
    fine: shortest paths visit each function once. ``aliases`` maps re-exported names to the
    functions they stand for (an edge from the name to the function). Ties between orchestrators
    go to the one whose qualified name sorts first, so output is stable.
    """
    graph: nx.DiGraph = nx.DiGraph()
    orchestrators: list[str] = []
    for result in results:
        orchestrators.extend(result.orchestrators)
        for function in result.functions:
            graph.add_node(function.qualname)
            for callee in function.calls:
                graph.add_edge(function.qualname, callee)
    chains: dict[str, tuple[str, ...]] = {}
    for alias, target in (aliases or {}).items():
        graph.add_edge(alias, target)
    for orchestrator in sorted(set(orchestrators)):
        if orchestrator not in graph:
            continue
        for target, path in nx.single_source_shortest_path(graph, orchestrator).items():
            current = chains.get(target)
            if current is None or len(path) < len(current):
                chains[target] = tuple(path)
    for orchestrator in orchestrators:
        chains[orchestrator] = (orchestrator,)
    return chains
