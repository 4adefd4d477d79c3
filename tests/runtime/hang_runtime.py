"""A program that runs ``hang_app`` in an embedded ``Runtime`` until interrupted.

``python -m tests.runtime.hang_runtime STORE MARKER DRAIN_SECONDS``: starts ``calls_stuck``,
prints "running" once its activity has started, then waits for it; on Ctrl-C it leaves the
``with`` block, as a user's program would. The worker logs to stderr.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from pathlib import Path

import durableflow as df
from tests.runtime.hang_app import app


def main(store: str, marker: str, drain: float) -> None:
    # As in a terminal, even when started from a shell that ignores SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")
    with df.Runtime(app, store, drain_timeout=drain) as rt:
        iid = rt.client.start_new("calls_stuck", input=marker)
        while not Path(marker).exists():
            time.sleep(0.01)
        print("running", iid, flush=True)
        rt.client.wait_for_completion(iid, timeout=3600)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
