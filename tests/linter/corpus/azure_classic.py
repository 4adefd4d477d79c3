"""Azure Durable Functions, Python v1 programming model (function.json + Orchestrator.create)."""

import random

import azure.durable_functions as df


def orchestrator_function(context):
    pick = random.choice(["a", "b"])  # expect: DUR003
    first = yield context.call_activity("Hello", pick)
    return [first]


main = df.Orchestrator.create(orchestrator_function)
