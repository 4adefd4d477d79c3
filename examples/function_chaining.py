"""Function chaining: call activities one after another, each fed the previous result."""

from __future__ import annotations

from typing import Any

import durableflow as df

app = df.App()


@app.activity
def say_hello(city: str) -> str:
    """Greet one city."""
    return f"Hello {city}!"


@app.orchestrator
def hello_cities(ctx: df.OrchestrationContext, _input: Any) -> Any:
    """Greet three cities in order and return the greetings."""
    greetings = []
    tokyo = yield ctx.call_activity(say_hello, "Tokyo")
    greetings.append(tokyo)
    seattle = yield ctx.call_activity(say_hello, "Seattle")
    greetings.append(seattle)
    london = yield ctx.call_activity(say_hello, "London")
    greetings.append(london)
    return greetings


def main(store: str = "sqlite:///demo-out/function_chaining.db") -> Any:
    """Run one instance and return its output."""
    with df.Runtime(app, store) as rt:
        iid = rt.client.start_new(hello_cities)
        return rt.client.wait_for_completion(iid, timeout=30).output


if __name__ == "__main__":
    print(main())
