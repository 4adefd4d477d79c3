"""The compiler: orchestrator source (LibCST) -> declarative, replayable graph (``ir``)."""

from durableflow.compiler.errors import CODES, CompileError, CompileFailed
from durableflow.compiler.frontend import compile_file, compile_source

__all__ = ["CODES", "CompileError", "CompileFailed", "compile_file", "compile_source"]
