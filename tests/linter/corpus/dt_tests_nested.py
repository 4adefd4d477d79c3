"""durabletask-python tests in the style of its own suite: orchestrators defined inside tests."""

import random
import time
from datetime import datetime, timedelta

from durabletask import client, task, worker


def test_activity_sequence():
    def plus_one(_: task.ActivityContext, value: int) -> int:
        return value + 1

    def sequence(ctx: task.OrchestrationContext, start_val: int):
        numbers = [start_val]
        current = start_val
        for _ in range(10):
            current = yield ctx.call_activity(plus_one, input=current)
            numbers.append(current)
        return numbers

    with worker.TaskHubGrpcWorker() as w:
        w.add_orchestrator(sequence)
        w.add_activity(plus_one)
        w.start()
        c = client.TaskHubGrpcClient()
        instance_id = c.schedule_new_orchestration(sequence, input=1)
        state = c.wait_for_orchestration_completion(instance_id, timeout=30)
        assert state is not None


def test_timer_and_jitter():
    def delayed(ctx: task.OrchestrationContext, seconds: int):
        jitter = random.random()  # expect: DUR003
        due = datetime.now() + timedelta(seconds=seconds + jitter)  # expect: DUR001
        yield ctx.create_timer(due)
        return "done"

    def racer(ctx, _):
        approval = ctx.wait_for_external_event("approval")
        timeout = ctx.create_timer(timedelta(hours=1))
        winner = yield task.when_any([approval, timeout])
        if winner == approval:
            return "approved"
        time.sleep(1)  # expect: DUR006
        return "timed out"

    with worker.TaskHubGrpcWorker() as w:
        w.add_orchestrator(delayed)
        w.add_named_orchestrator("racer_v2", racer)
        w.start()


def test_fan_out():
    def fan_out(ctx: task.OrchestrationContext, count: int):
        tasks = [ctx.call_activity("work", input=i) for i in range(count)]
        results = yield task.when_all(tasks)
        print("results", results)  # expect: DUR012
        return sum(results)

    registry_worker = worker.TaskHubGrpcWorker()
    registry_worker.add_orchestrator(fan_out)


def test_helper_function_is_not_an_orchestrator():
    def make_input(count: int) -> list[int]:
        return [time.time_ns() for _ in range(count)]

    assert len(make_input(2)) == 2
