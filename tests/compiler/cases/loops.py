"""while with break/continue, for over enumerate with unpacking, augmented assignment, append."""
import durableflow as df

app = df.App()

INPUTS = [["a", "b", "c"], [], ["x"]]


@app.orchestrator
def loops(ctx: df.OrchestrationContext, items):
    seen = []
    total = 0
    for i, item in enumerate(items):
        if item == "b":
            continue
        value = yield ctx.call_activity("fetch", {"index": i, "item": item})
        seen.append(value)
        total += 1
    attempts = 0
    while attempts < 3:
        attempts += 1
        ok = yield ctx.call_activity("probe", attempts)
        if ok == "done":
            break
        if ok is None:
            continue
        yield ctx.call_activity("wait_a_bit", attempts)
    while True:
        last = yield ctx.call_activity("final", total)
        if last != 0:
            break
        total += 1
    return {"seen": seen, "total": total, "attempts": attempts, "last": last}


@app.orchestrator
def growing(ctx: df.OrchestrationContext, items):
    """A loop over a list that its body appends to, as Python's list iterator sees it."""
    queue = list(items)
    done = []
    for job in queue:
        result = yield ctx.call_activity("run", job)
        if result == 7 and len(queue) < 6:
            queue.append(job)
        done.append(result)
    return done
