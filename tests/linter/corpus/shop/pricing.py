"""Pricing helpers, called from orchestrators in another module."""

import os
import time

RATES = {"standard": 1.0}


def total_of(order):
    return sum(line["price"] * line["qty"] for line in order["lines"]) * _rate(order)


def _rate(order):
    region = os.environ.get("REGION", "eu")  # expect: DUR010
    return RATES.get(region, 1.0)


def apply_discount(total, order):
    if order.get("coupon"):
        RATES["coupon"] = 0.9  # expect: DUR009
        return apply_discount(total * 0.9, {})
    return total


def unused_helper():
    # never called from an orchestrator, so never checked
    return time.time()
