"""if/elif/else with durable arms, guards on results, names assigned on every path."""
import durableflow as df

app = df.App()

INPUTS = [0, 1, 5, 10, -3]


@app.orchestrator
def branches(ctx: df.OrchestrationContext, n):
    kind = yield ctx.call_activity("classify", n)
    if kind == 1:
        result = yield ctx.call_activity("one", n)
    elif kind == 2 or n > 4:
        result = yield ctx.call_activity("two", n)
        if result:
            yield ctx.call_activity("two_extra", result)
    else:
        result = n * 2
    label = "big" if n > 3 else "small"
    if not result:
        return {"label": label, "result": None}
    return {"label": label, "result": result}
