"""Sequential activities, custom status, inline retry, return of the last result."""
from datetime import timedelta

import durableflow as df

app = df.App()
RETRY = df.RetryPolicy(first_interval=timedelta(seconds=2), max_attempts=3)
GREETING = "hello "

INPUTS = [{"name": "ann", "count": 2}, {"name": "bob", "count": 0}]


@app.activity(name="say")
def say_hello(text):
    return text


@app.orchestrator
def chaining(ctx: df.OrchestrationContext, request):
    """Greet, count, report."""
    ctx.set_custom_status({"stage": "greeting"})
    greeting = yield ctx.call_activity(say_hello, GREETING + request["name"], retry=RETRY)
    # a comment does not move ids
    ctx.logger.info("greeted %s", request["name"])
    counted = yield ctx.call_activity("count", request["count"], retry=df.RetryPolicy(timedelta(seconds=1), 2))
    ctx.set_custom_status({"stage": "reporting", "counted": counted})
    ref = str(ctx.new_uuid())
    yield ctx.call_activity("report", [greeting, counted, ref, ctx.new_uuid().replace("-", "")])
    return (yield ctx.call_activity("finish", None))
