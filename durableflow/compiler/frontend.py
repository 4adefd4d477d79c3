"""Compile orchestrator source files into :class:`~durableflow.ir.CompiledGraph` objects."""

from __future__ import annotations

import hashlib
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from durableflow.compiler.builder import Exit, GraphBuilder
from durableflow.compiler.durable import callable_names
from durableflow.compiler.errors import CompileError, CompileFailed
from durableflow.compiler.expressions import FunctionScope, constant_names
from durableflow.compiler.inline import helper_functions
from durableflow.compiler.lower import Lowerer, bound_names
from durableflow.compiler.scan import single_assignments
from durableflow.compiler.subgraphs import generator_helpers
from durableflow.discovery import (
    DiscoveryConfig,
    OrchestratorDef,
    find_orchestrators,
    import_table,
)
from durableflow.ir.graph import CompiledGraph

__all__ = ["compile_file", "compile_source"]


def compile_source(
    source: str, path: str = "<string>", function: str | None = None
) -> list[CompiledGraph]:
    """Compile every orchestrator in ``source`` (or only ``function``).

    Args:
        source: Python module text.
        path: Shown in errors and stored in the graph.
        function: An orchestrator's registered or function name; None compiles all. A
            function the module does not mark as an orchestrator (one registered from another
            module, or defined inside a function: ``outer.inner``) is compiled when named.

    Raises:
        CompileFailed: with every error of every orchestrator compiled.
    """
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        # The same position and wording durable-lint's DUR000 gives (CPython's parser).
        from durableflow.linter.analyze import syntax_error_finding

        finding = syntax_error_finding(exc, source)
        detail = finding.message.split("(", 1)[-1].rsplit(")", 1)[0]
        raise CompileFailed(
            [
                CompileError(
                    "DFC024",
                    f"syntax error: {detail}",
                    "fix the syntax",
                    path,
                    finding.span.line,
                    finding.span.column,
                )
            ]
        ) from None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    imports = import_table(module)
    found = find_orchestrators(module, imports=imports)
    if function is not None:
        wanted = function.replace(".<locals>.", ".")
        found = [o for o in found if wanted in (o.name, o.function_name)]
        if not found:
            explicit = DiscoveryConfig(explicit=(wanted,))
            found = find_orchestrators(module, explicit, imports=imports)
            found = [o for o in found if o.function_name == wanted]
        if not found:
            raise CompileFailed(
                [
                    CompileError(
                        "DFC025",
                        f"no orchestrator named {function!r}",
                        "check the name (`durable compile FILE --function NAME`)",
                        path,
                        1,
                        1,
                    )
                ]
            )
    constants = constant_names(module)
    registered = callable_names(module)
    every = find_orchestrators(module, imports=imports) if function is not None else found
    helpers = helper_functions(
        module, {o.node.name.value for o in every} | {o.node.name.value for o in found}
    )
    generators = generator_helpers(module, {o.node.name.value for o in every})
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    graphs: list[CompiledGraph] = []
    errors: list[CompileError] = []
    for orch in found:
        scope = FunctionScope(
            path=path,
            function=orch.function_name,
            ctx_param=orch.ctx_param or "ctx",
            positions=positions,
            module=module,
            imports=imports,
            local_names=set(),
            module_constants=constants,
            helpers=helpers,
            generators=generators,
        )
        graph = _compile_one(orch, scope, registered, digest)
        errors.extend(scope.errors)
        if graph is not None and not scope.errors:
            graphs.append(graph)
    if errors:
        raise CompileFailed(errors)
    return graphs


def _compile_one(
    orch: OrchestratorDef, scope: FunctionScope, registered: dict[str, str], digest: str
) -> CompiledGraph | None:
    fn = orch.node
    if fn.asynchronous is not None:
        scope.error(
            fn, "DFC001", "async orchestrator", "write a generator: replace await with yield"
        )
        return None
    params = [p.name.value for p in fn.params.params]
    input_param = params[1] if len(params) > 1 else None
    scope.local_names = bound_names(fn.body) | set(params[1:])
    scope.local_values = single_assignments(fn.body, set(params))
    builder = GraphBuilder(orch.function_name)
    lowerer = Lowerer(scope, builder, registered)
    start = builder.add("start", "start", lowerer.span(fn))
    assigned = frozenset({input_param}) if input_param else frozenset()
    exits = lowerer.block(fn.body, [Exit(start.id, "next", assigned)])
    if exits:
        lowerer.emit("end", "return", fn, exits)
    if scope.errors:
        return None
    meta = {
        "name": orch.name,
        "function": orch.function_name,
        "source_path": scope.path,
        "source_sha256": digest,
        "ctx_param": scope.ctx_param,
        "input_param": input_param,
        "entry": start.id,
        "constants": dict(sorted(scope.constants.items())),
    }
    graph = CompiledGraph(builder.nodes, builder.edges, meta)
    graph.parse_all()
    return graph


def compile_file(path: str | Path, function: str | None = None) -> list[CompiledGraph]:
    """Compile the orchestrators of a Python file (see :func:`compile_source`)."""
    p = Path(path)
    return compile_source(p.read_text(encoding="utf-8"), str(path), function)
