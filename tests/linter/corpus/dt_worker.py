"""durabletask-python worker with two orchestrators."""

import time
from random import randint as roll

from durabletask import task, worker


def sequence(ctx: task.OrchestrationContext, _):
    seed = roll(1, 6)  # expect: DUR003
    time.sleep(1)  # expect: DUR006
    result = yield ctx.call_activity(hello, input=seed)
    return [result]


def registered(ctx, _):
    yield ctx.call_activity(hello, input="x")
    return hash("key")  # expect: DUR013


def hello(ctx: task.ActivityContext, name: str) -> str:
    time.sleep(0.1)
    return f"Hello {name}!"


def main():
    with worker.TaskHubGrpcWorker() as w:
        w.add_orchestrator(sequence)
        w.add_orchestrator(registered)
        w.add_activity(hello)
        w.start()
