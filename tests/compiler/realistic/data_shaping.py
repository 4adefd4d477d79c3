"""Orchestrators that do ordinary deterministic data shaping between activities."""

import json

import durableflow as df

app = df.App()

INPUTS = {
    "price_order": [
        {"id": "o-1", "lines": [{"sku": "a", "qty": 2, "price": 3.5}], "coupon": "TEN"},
        {"id": "o-2", "lines": [], "coupon": None},
    ],
    "batch_import": [{"rows": list(range(7)), "batch_size": 3}, {"rows": [], "batch_size": 2}],
    "validate_and_route": [{"kind": "refund", "amount": 12}, {"kind": "other"}, "bad"],
    "nightly_report": [{"date": "2026-11-30", "teams": ["core", "web"]}],
    "merge_profiles": [{"base": {"name": "Ada", "tier": "gold"}, "sources": ["crm", "billing"]}],
}

DISCOUNTS = {"TEN": 0.10, "TWENTY": 0.20}


def line_total(line):
    return line["qty"] * line["price"]


def apply_discount(amount, coupon):
    """Coupons give a percentage off; unknown coupons give nothing."""
    if coupon is None:
        return amount
    rate = DISCOUNTS.get(coupon, 0)
    return amount * (1 - rate)


def chunks(items, size):
    return [items[i : i + size] for i in range(0, len(items), size)]


@app.orchestrator
def price_order(ctx: df.OrchestrationContext, order):
    subtotal = sum(line_total(line) for line in order["lines"])
    total = round(apply_discount(subtotal, order["coupon"]), 2)
    skus = sorted({line["sku"]: line["qty"] for line in order["lines"]}.keys())
    if total <= 0:
        return {"id": order["id"], "total": 0, "skus": skus}
    receipt = yield ctx.call_activity("charge", {"order": order["id"], "amount": total})
    return {"id": order["id"], "total": total, "skus": skus, "receipt": receipt}


@app.orchestrator
def batch_import(ctx: df.OrchestrationContext, job):
    batches = chunks(job["rows"], job["batch_size"])
    imported = []
    for index, batch in enumerate(batches):
        count = yield ctx.call_activity("import_batch", {"index": index, "rows": batch})
        imported.extend([count] if isinstance(count, int) else [])
    ctx.set_custom_status(f"{len(batches)} batches, {sum(imported)} rows")
    return {"batches": len(batches), "rows": sum(imported)}


@app.orchestrator
def validate_and_route(ctx: df.OrchestrationContext, request):
    if not isinstance(request, dict):
        raise TypeError(f"expected a dict, got {request!r}")
    kind = request.get("kind", "unknown")
    if kind == "refund":
        amount = request.get("amount", 0)
        if not isinstance(amount, (int, float)) or amount <= 0:
            raise ValueError("refund amount must be positive")
        return (yield ctx.call_activity("refund", amount))
    elif kind in ("invoice", "credit"):
        return (yield ctx.call_activity("bill", request))
    return {"routed": False, "kind": kind.upper()}


@app.orchestrator
def nightly_report(ctx: df.OrchestrationContext, config):
    rows = yield ctx.task_all([ctx.call_activity("team_stats", t) for t in config["teams"]])
    lines = [f"{team:<8}{value!s:>6}" for team, value in zip(config["teams"], rows)]
    header = "Report for " + config["date"].replace("-", "/")
    body = "\n".join([header] + lines) if lines else header
    yield ctx.call_activity("send_report", body)
    return len(lines)


@app.orchestrator
def merge_profiles(ctx: df.OrchestrationContext, request):
    fragments = yield ctx.task_all([ctx.call_activity("fetch", s) for s in request["sources"]])
    merged = dict(request["base"])
    for source, fragment in zip(request["sources"], fragments):
        if isinstance(fragment, dict):
            merged = {**merged, **fragment}
        else:
            merged[source] = fragment
    payload = json.dumps(merged, sort_keys=True)
    yield ctx.call_activity("save_profile", payload)
    return json.loads(payload)
