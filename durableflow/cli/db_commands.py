"""``durable db``: the store's schema (``durable db upgrade``)."""

from __future__ import annotations

import argparse
from typing import Any

from durableflow.cli.options import DEFAULT_STORE, STORE_ENV, store_url

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``db`` command group to the ``durable`` parser."""
    text = "Manage the store's schema."
    db = sub.add_parser("db", help=text, description=text)
    verbs = db.add_subparsers(dest="db_command", metavar="COMMAND")
    verbs.required = True
    text = (
        "Create the store if it does not exist and apply pending migrations (what a store's "
        "first use does anyway); safe while workers run."
    )
    p = verbs.add_parser("upgrade", help=text, description=text)
    p.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help=f"store URL (default: ${STORE_ENV}, else {DEFAULT_STORE})",
    )
    p.set_defaults(func=cmd_upgrade)


def cmd_upgrade(args: argparse.Namespace) -> int:
    """``durable db upgrade --store URL``."""
    from durableflow.runtime.store import upgrade_store

    done = upgrade_store(store_url(args))
    if not done.latest:
        print(f"{done.url}: an in-memory store has no schema to upgrade")
    elif done.applied:
        print(f"{done.url}: applied {', '.join(done.applied)}; now at {done.latest}")
    else:
        print(f"{done.url}: up to date at {done.latest}")
    return 0
