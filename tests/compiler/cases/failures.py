"""try/except by exception name, nested try, bound exceptions, raise and re-raise."""
import durableflow as df

app = df.App()

INPUTS = [{"k": 1}, {}, {"k": 0}]


@app.orchestrator
def failures(ctx: df.OrchestrationContext, data):
    notes = []
    try:
        first = yield ctx.call_activity("risky", data)
        try:
            second = yield ctx.call_activity("riskier", first)
        except df.TaskFailedError as err:
            notes.append("inner: " + err.error_message)
            second = None
        ratio = 10 // data["k"]
    except (KeyError, ZeroDivisionError):
        notes.append("bad input")
        ratio = -1
        second = None
    except df.TaskFailedError as outer:
        yield ctx.call_activity("compensate", outer.task_name)
        raise
    if ratio < 0:
        raise ValueError("ratio below zero", notes)
    try:
        yield ctx.call_activity("last", second)
    except Exception:
        return {"notes": notes, "ratio": ratio, "last": "failed"}
    return {"notes": notes, "ratio": ratio}
