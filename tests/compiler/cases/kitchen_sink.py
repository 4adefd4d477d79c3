"""Loops inside try, try inside loops, subscript targets, f-strings, constants, unpacking."""
import durableflow as df

app = df.App()
LIMIT = 3
PREFIX = "item-"

INPUTS = [{"items": [1, 2, 3], "mode": "a"}, {"items": [], "mode": "b"}, {"mode": "c"}]


@app.orchestrator
def kitchen_sink(ctx: df.OrchestrationContext, cfg):
    counts = {"ok": 0, "failed": 0}
    log = []
    try:
        for i, item in enumerate(cfg["items"]):
            if i >= LIMIT:
                break
            try:
                value = yield ctx.call_activity("work", f"{PREFIX}{item}")
                counts["ok"] += 1
            except df.TaskFailedError as err:
                counts["failed"] += 1
                log.append(err.task_name)
                continue
            log.append(value)
    except KeyError:
        log.append("no items")
    first, second = yield ctx.task_all([ctx.call_activity("a", 1), ctx.call_activity("b", 2)])
    n = 0
    while n < 2:
        n += 1
        try:
            if cfg["mode"] == "c":
                raise RuntimeError("mode c")
            probe = yield ctx.call_activity("probe", n)
        except RuntimeError:
            probe = None
        if probe is None:
            continue
        log.append(probe)
    result = {"counts": counts, "log": log, "pair": [first, second], "n": n}
    result["mode"] = cfg.get("mode")
    return result
