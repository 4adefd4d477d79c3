"""Azure Durable Functions, Python v2 programming model."""

import datetime
import logging

import azure.durable_functions as df
import azure.functions as func
import requests

myApp = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@myApp.orchestration_trigger(context_name="context")
def hello_orchestrator(context: df.DurableOrchestrationContext):
    started = datetime.datetime.utcnow()  # expect: DUR001
    cities = requests.get("https://example.com/cities").json()  # expect: DUR005
    logging.info("started at %s", started)  # expect: DUR012
    results = []
    for city in cities:
        result = yield context.call_activity("hello", city)
        results.append(result)
    return results


@myApp.activity_trigger(input_name="city")
def hello(city: str):
    return requests.get(f"https://example.com/hello/{city}").text
