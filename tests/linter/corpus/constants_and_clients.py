"""durableflow: module constants, a client object built in the orchestrator, helpers."""

import os
from datetime import timedelta

import httpx

import durableflow as df

app = df.App()

TASK_HUB = os.environ.get("TASK_HUB", "default")
BATCH_SIZE: int = 50
REGIONS = ("eu", "us")


class PriceClient:
    """A small API client, used (wrongly) from an orchestrator."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def get(self, sku: str) -> float:
        return httpx.get(f"{self.base_url}/{sku}").json()["price"]  # expect: DUR005


def show_settings() -> None:
    global TASK_HUB
    print(TASK_HUB, BATCH_SIZE)


async def fetch_rates(ctx: df.OrchestrationContext, currency: str) -> dict:
    return {"currency": currency}


def charge_all(ctx: df.OrchestrationContext, orders: list):
    for order in orders:
        yield ctx.call_activity("charge", order)


@app.orchestrator
def reprice(ctx: df.OrchestrationContext, skus: list):
    client = PriceClient("https://prices.example.com")
    prices = {sku: client.get(sku) for sku in skus[:BATCH_SIZE]}
    for region in REGIONS:
        yield ctx.call_activity("publish", {"region": region, "hub": TASK_HUB, "prices": prices})
    yield from charge_all(ctx, skus)
    yield ctx.create_timer(ctx.current_utc_datetime + timedelta(hours=1))
    return len(prices)
