"""Dynamic fan-out (map), static fan-out of literal lists, task lists built with append."""
import durableflow as df

app = df.App()

INPUTS = [[1, 2, 3], [], [5]]


@app.activity
def double(x):
    return 2 * x


@app.orchestrator
def fan_out(ctx: df.OrchestrationContext, numbers):
    doubled = yield ctx.task_all([ctx.call_activity(double, x) for x in numbers if x != 2])
    pair = yield ctx.task_all([ctx.call_activity("left", 1), ctx.call_activity("right", 2)])
    tasks = []
    for n in numbers:
        tasks.append(ctx.call_activity("square", n))
    squares = yield ctx.task_all(tasks)
    cubes = yield ctx.task_all(ctx.call_activity("cube", n) for n in numbers)
    children = [ctx.call_sub_orchestrator("child", {"n": n}) for n in numbers]
    results = yield ctx.task_all(children)
    return {"doubled": doubled, "pair": pair, "squares": squares, "cubes": cubes, "children": results}
