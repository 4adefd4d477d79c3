"""The banned-API table: qualified name -> code, why, and the replay-safe replacement.

One table, kept as data (as Temporal's workflow sandbox keeps its restrictions). A key matches a
reference whose qualified name equals it or starts with it followed by a dot, so ``"socket"`` bans
the whole module; the longest matching key wins, so ``socket.gethostname`` can carry its own code.
References are matched, not only calls: ``r = random.random`` is reported where ``random.random``
is written. Entries with ``only_bare_call`` are reported only when called without arguments
(``random.Random()`` is nondeterministic, ``random.Random(seed)`` is not).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["BANNED_APIS", "BannedApi", "lookup"]


@dataclass(frozen=True, slots=True)
class BannedApi:
    """One banned API.

    Attributes:
        code: Rule code it belongs to.
        why: What makes it unsafe on replay (the first half of the message).
        replacement: What to use instead (the second half of the message).
        only_bare_call: Report only calls with no arguments.
    """

    code: str
    why: str
    replacement: str
    only_bare_call: bool = False

    def message(self, name: str) -> str:
        """Return the finding message for a use of ``name`` (builtins shown bare)."""
        return f"`{name.removeprefix('builtins.')}` {self.why}; use {self.replacement}"


_NOW = "returns a different time on every replay"
_CTX_NOW = "`ctx.current_utc_datetime`"
_RANDOM = "differs on every replay"
_RANDOM_FIX = "a value computed in an activity, or `random.Random(seed)` with a seed from the input"
_IO = "does I/O, whose result can change between replays and which repeats on every replay"
_IO_FIX = "an activity (`ctx.call_activity`)"
_NET = "does network I/O, which repeats on every replay and can return something else"
_ASYNC = "is async machinery; orchestrators are generators driven by replay"
_ASYNC_FIX = "`yield` on durable tasks (`ctx.task_all`/`ctx.task_any` for concurrency)"
_THREAD = "starts concurrent work outside the orchestration's history"
_THREAD_FIX = "activities, fanned out with `ctx.task_all`"
_HOST = "depends on the host or process, which can differ on replay"
_HOST_FIX = "a value passed in the orchestration input or read in an activity"
_LOG = "repeats on every replay"
_LOG_FIX = "`ctx.logger`, or guard it with `if not ctx.is_replaying:`"
_DYN = "runs code that static analysis and replay cannot see"
_DYN_FIX = "a module-level import and plain calls"
_SLEEP_FIX = "`yield ctx.create_timer(ctx.current_utc_datetime + timedelta(seconds=...))`"


def _entries(code: str, why: str, replacement: str, *names: str) -> dict[str, BannedApi]:
    return {name: BannedApi(code, why, replacement) for name in names}


BANNED_APIS: dict[str, BannedApi] = {
    # DUR001 current date and time
    **_entries(
        "DUR001",
        _NOW,
        _CTX_NOW,
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.date.today",
        "pendulum.now",
        "pendulum.today",
        "arrow.now",
        "arrow.utcnow",
    ),
    **_entries(
        "DUR001",
        _NOW,
        "`ctx.current_utc_datetime.timestamp()`",
        "time.time",
        "time.time_ns",
        "time.monotonic",
        "time.monotonic_ns",
        "time.perf_counter",
        "time.perf_counter_ns",
        "time.process_time",
        "time.localtime",
        "time.gmtime",
        "time.ctime",
        "time.asctime",
    ),
    # DUR002 random UUIDs
    **_entries(
        "DUR002",
        "is random and differs on every replay",
        "`ctx.new_uuid()`",
        "uuid.uuid1",
        "uuid.uuid4",
    ),
    # DUR003 random numbers
    **_entries(
        "DUR003",
        _RANDOM,
        _RANDOM_FIX,
        "random.random",
        "random.randint",
        "random.randrange",
        "random.randbytes",
        "random.getrandbits",
        "random.choice",
        "random.choices",
        "random.shuffle",
        "random.sample",
        "random.uniform",
        "random.triangular",
        "random.gauss",
        "random.normalvariate",
        "random.lognormvariate",
        "random.expovariate",
        "random.betavariate",
        "random.gammavariate",
        "random.paretovariate",
        "random.weibullvariate",
        "random.vonmisesvariate",
        "random.binomialvariate",
        "random.SystemRandom",
        "secrets",
        "os.urandom",
        "os.getrandom",
        "numpy.random",
    ),
    "random.Random": BannedApi("DUR003", "without a seed " + _RANDOM, _RANDOM_FIX, True),
    "numpy.random.default_rng": BannedApi("DUR003", "without a seed " + _RANDOM, _RANDOM_FIX, True),
    # DUR004 file, database and other I/O
    **_entries(
        "DUR004",
        _IO,
        _IO_FIX,
        "builtins.open",
        "builtins.input",
        "io.open",
        "io.open_code",
        "os.open",
        "os.read",
        "os.write",
        "os.listdir",
        "os.scandir",
        "os.walk",
        "os.stat",
        "os.lstat",
        "os.remove",
        "os.unlink",
        "os.rename",
        "os.replace",
        "os.mkdir",
        "os.makedirs",
        "os.rmdir",
        "os.removedirs",
        "os.getcwd",
        "os.chdir",
        "os.path.exists",
        "os.path.isfile",
        "os.path.isdir",
        "os.path.islink",
        "os.path.getsize",
        "os.path.getmtime",
        "os.path.getctime",
        "os.path.getatime",
        "os.path.realpath",
        "os.path.abspath",
        "pathlib.Path.cwd",
        "pathlib.Path.home",
        "shutil",
        "tempfile",
        "glob",
        "fileinput",
        "sqlite3",
        "dbm",
        "shelve",
        "psycopg",
        "psycopg2",
        "sqlalchemy",
        "pymongo",
        "redis",
        "boto3",
        "sys.stdin",
    ),
    # DUR005 network
    **_entries(
        "DUR005",
        _NET,
        _IO_FIX,
        "socket",
        "ssl",
        "requests",
        "httpx",
        "urllib.request",
        "urllib3",
        "http.client",
        "aiohttp",
        "ftplib",
        "smtplib",
        "poplib",
        "imaplib",
        "websockets",
        "grpc",
        "xmlrpc.client",
    ),
    # DUR006 blocking calls
    "time.sleep": BannedApi(
        "DUR006", "blocks the worker and sleeps again on every replay", _SLEEP_FIX
    ),
    **_entries(
        "DUR006",
        "blocks the worker while it waits",
        "`yield ctx.wait_for_external_event(name)` or a durable timer",
        "select.select",
        "select.poll",
        "signal.pause",
        "os.wait",
        "os.waitpid",
    ),
    # DUR007 async
    **_entries("DUR007", _ASYNC, _ASYNC_FIX, "asyncio", "anyio", "trio"),
    # DUR008 threads, processes, executors
    **_entries(
        "DUR008",
        _THREAD,
        _THREAD_FIX,
        "threading",
        "_thread",
        "multiprocessing",
        "concurrent.futures",
        "subprocess",
        "os.system",
        "os.popen",
        "os.fork",
        "os.forkpty",
        "os.spawnl",
        "os.spawnv",
        "os.spawnlp",
        "os.spawnvp",
        "os.execv",
        "os.execvp",
        "os.execl",
        "os.execlp",
        "os.posix_spawn",
    ),
    # DUR010 environment and host identity
    **_entries(
        "DUR010",
        _HOST,
        _HOST_FIX,
        "os.environ",
        "os.environb",
        "os.getenv",
        "os.getenvb",
        "os.putenv",
        "os.getpid",
        "os.getppid",
        "os.getuid",
        "os.getgid",
        "os.getlogin",
        "os.uname",
        "os.cpu_count",
        "os.get_terminal_size",
        "socket.gethostname",
        "socket.getfqdn",
        "platform",
        "sys.argv",
        "sys.platform",
        "sys.executable",
        "getpass.getuser",
        "uuid.getnode",
    ),
    # DUR012 logging and printing
    **_entries(
        "DUR012",
        _LOG,
        _LOG_FIX,
        "builtins.print",
        "logging.debug",
        "logging.info",
        "logging.warning",
        "logging.warn",
        "logging.error",
        "logging.exception",
        "logging.critical",
        "logging.fatal",
        "logging.log",
        "sys.stdout",
        "sys.stderr",
        "pprint.pprint",
        "pprint.pp",
    ),
    # DUR013 hash order
    **_entries(
        "DUR013",
        "depends on per-process hash salting or memory addresses, which differ on replay",
        "a stable key (a name, an index, or `hashlib` over the value)",
        "builtins.hash",
        "builtins.id",
    ),
    # DUR014 dynamic code
    **_entries(
        "DUR014",
        _DYN,
        _DYN_FIX,
        "importlib",
        "builtins.__import__",
        "builtins.exec",
        "builtins.eval",
        "builtins.compile",
        "runpy",
    ),
}


def lookup(
    qualified: str, table: Mapping[str, BannedApi] = BANNED_APIS
) -> tuple[str, BannedApi] | None:
    """Return ``(matched_key, entry)`` for the longest key matching ``qualified``, if any."""
    candidate = qualified
    while True:
        entry = table.get(candidate)
        if entry is not None:
            return candidate, entry
        cut = candidate.rfind(".")
        if cut < 0:
            return None
        candidate = candidate[:cut]
