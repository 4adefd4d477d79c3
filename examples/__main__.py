"""Run every example end to end and print what each did (``make demo``)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

EXAMPLES = [
    "function_chaining",
    "fan_out_fan_in",
    "async_http_api",
    "monitor",
    "human_interaction",
    "singleton",
    "eternal",
    "saga",
    "sub_orchestrations",
]


def main() -> int:
    """Run each example on its own SQLite file under demo-out/."""
    out = Path("demo-out")
    out.mkdir(exist_ok=True)
    failures = 0
    for name in EXAMPLES:
        for stale in out.glob(f"{name}.db*"):
            stale.unlink()
        module = importlib.import_module(f"examples.{name}")
        try:
            result = module.main()
        except Exception as exc:
            failures += 1
            print(f"{name:20} FAILED: {type(exc).__name__}: {exc}")
            continue
        print(f"{name:20} {json.dumps(result, sort_keys=True)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
