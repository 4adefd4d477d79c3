"""Saga: book a trip in steps with retries; if a step fails for good, undo what was done."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import durableflow as df

app = df.App()

# Inputs `durable fuzz` tries for each orchestrator (see docs/testing.md).
FUZZ_INPUTS: dict[str, list[Any]] = {
    "book_trip": [{"id": "t1"}, {"id": "t2", "car": "unavailable"}]
}

# Attempts per (service, trip id), so the demo's flaky service fails a set number of times.
ATTEMPTS: dict[str, int] = {}

RETRY = df.RetryPolicy(first_interval=timedelta(seconds=1), max_attempts=3, backoff_coefficient=2.0)


def _attempt(key: str) -> int:
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    return ATTEMPTS[key]


@app.activity
def book_flight(trip: dict[str, Any]) -> str:
    """Reserve the flight; flaky: fails on its first attempt."""
    if _attempt(f"flight:{trip['id']}") < 2:
        raise ConnectionError("airline API timed out")
    return f"flight-{trip['id']}"


@app.activity
def book_hotel(trip: dict[str, Any]) -> str:
    """Reserve the hotel."""
    return f"hotel-{trip['id']}"


@app.activity
def book_car(trip: dict[str, Any]) -> str:
    """Reserve the car; fails for good when the trip asks for an unavailable car."""
    _attempt(f"car:{trip['id']}")
    if trip.get("car") == "unavailable":
        raise LookupError("no cars left at the destination")
    return f"car-{trip['id']}"


@app.activity
def cancel_flight(booking: str) -> str:
    """Compensation for book_flight."""
    return f"cancelled {booking}"


@app.activity
def cancel_hotel(booking: str) -> str:
    """Compensation for book_hotel."""
    return f"cancelled {booking}"


@app.orchestrator
def book_trip(ctx: df.OrchestrationContext, trip: dict[str, Any]) -> Any:
    """Book flight, hotel and car; on a permanent failure, compensate in reverse order."""
    flight = yield ctx.call_activity(book_flight, trip, retry=RETRY)
    hotel = yield ctx.call_activity(book_hotel, trip, retry=RETRY)
    try:
        car = yield ctx.call_activity(book_car, trip, retry=RETRY)
    except df.TaskFailedError:
        undone_hotel = yield ctx.call_activity(cancel_hotel, hotel)
        undone_flight = yield ctx.call_activity(cancel_flight, flight)
        return {"booked": False, "compensated": [undone_hotel, undone_flight]}
    return {"booked": True, "bookings": [flight, hotel, car]}


def main(store: str = "sqlite:///demo-out/saga.db") -> Any:
    """Book one trip that succeeds after a retry, and one whose car cannot be had."""
    from durableflow.testing.drive import drive_to_completion

    with df.Runtime(app, store, clock=df.FakeClock()) as rt:
        ok = rt.client.start_new(book_trip, input={"id": "t1"})
        bad = rt.client.start_new(book_trip, input={"id": "t2", "car": "unavailable"})
        return {
            "ok": drive_to_completion(rt, ok).output,
            "compensated": drive_to_completion(rt, bad).output,
        }


if __name__ == "__main__":
    print(main())
