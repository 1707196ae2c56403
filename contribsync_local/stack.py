"""The local stack: embedded Postgres, moto, the GitHub simulator, two pollers per function (its queue and
its high-priority queue, as the template's two event source mappings), the cron driver and HTTP (the
event API, webhooks and the read-only dashboard on ``/``).

GitHub: with ``github="auto"`` (the default) the simulator is started and the functions are pointed at it
(as a GitHub App, with the simulator's App key, when the simulator has ``installations``), unless
``GITHUB_TOKEN``, ``GITHUB_APP_ID`` or ``GITHUB_API_URL`` is set, in which case they reach that GitHub.
With ``changes_every_s`` the simulator's change mode delivers signed webhooks to the stack's ``/webhook``.

Time: ``clock`` (``contribsync.clock``; the system's by default) is the stack's one clock. Every handler's
clients (runtime, flow control, GitHub budget), the cron driver and the simulator the stack makes run on
it; with a ``ScaledClock(60)`` a simulated hour passes per real minute, hourly crons fire about once per
real minute and the simulator's rate-limit windows last a real minute. A ``simulator`` passed in keeps its
own clock: give it ``clock=clock.now``. SQS (moto) keeps real time: deferrals ask it for the simulated
wait divided by the factor (``contribsync.clock.real_delay_s``).

``contribsync dev``, ``make demo`` and the integration tests all use this one class, so they run the
same handlers in the same way. Handlers are the real ``functions/*/app.py`` modules, imported
in-process and called with Lambda-shaped events. With ``http_process`` (``contribsync dev``, the webhook
benchmark) the HTTP endpoint runs the same way in a process of its own (``http_process``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contribsync import catalog
from contribsync.clock import SystemClock
from contribsync.db import Database, migrate
from contribsync.queues import Queues
from contribsync.runtime.failure import Masker
from contribsync.settings import LOCAL_STACK_ENV
from contribsync_local import postgres
from contribsync_local.aws import MotoServer, aws_environment, create_queues, sqs_client
from contribsync_local.dashboard import Dashboard
from contribsync_local.http import LocalHttp, access_log
from contribsync_local.http_process import HttpProcess
from contribsync_local.poller import FunctionPoller
from contribsync_local.scheduler import CronDriver
from contribsync_sim.simulator import SIM_TOKEN, Simulator

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import ModuleType

    from contribsync.clock import Clock
    from contribsync_local.http import AccessLog

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
STATE_FILE = ROOT / ".local" / "stack.json"
URL_FUNCTIONS = ("EventApi", "WebhookReceiver")
LOCAL_WEBHOOK_SECRET = "demo-webhook-secret"
REAL_GITHUB_ENV = ("GITHUB_TOKEN", "GITHUB_APP_ID", "GITHUB_API_URL")


def load_handler(function: str, *, tag: str = "", clock: Clock | None = None) -> ModuleType:
    """Import ``functions/<folder>/app.py`` as its own module (``tag`` keeps stacks apart); its clients run
    on ``clock`` when one is given (see ``use_clock``)."""
    folder = catalog.folder_of(function)
    path = FUNCTIONS / folder / "app.py"
    spec = importlib.util.spec_from_file_location(f"contribsync_fn_{folder}{tag}", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if clock is not None:
        use_clock(module, clock)
    return module


def close_handler(module: ModuleType) -> None:
    """Close the connections a handler module's runtime or receiver opened."""
    for name in ("RUNTIME", "WEBHOOK_RECEIVER", "EVENT_API"):
        if (closable := getattr(module, name, None)) is not None:
            closable.close()


def use_clock(module: ModuleType, clock: Clock) -> None:
    """Put a handler module's clients on ``clock``, before its first event builds anything from them."""
    for name in ("RUNTIME", "WEBHOOK_RECEIVER", "EVENT_API"):
        if (holder := getattr(module, name, None)) is not None:
            holder.clients.clock = clock


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only: ``stack.json`` holds the database URL, password
    included, for the CLI's commands. The text goes to a file ``mkstemp`` creates with mode 0600, which is
    then renamed over ``path``: the file never exists with wider permissions, even for an instant (a
    ``chmod`` after writing would leave one), and a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class LocalStack:
    """Start with ``with LocalStack() as stack:``; everything stops on exit."""

    def __init__(self, *, database_url: str | None = None, port: int = 8288, prefix: str = "contribsync-local",
                 pollers: bool = True, cron: bool = True, poller_concurrency: int = 2,
                 retry_base_s: float = 10.0, write_state: bool = False, aws_endpoint: str | None = None,
                 github: str = "auto", simulator: Simulator | None = None, changes_every_s: float = 0.0,
                 github_token: str = SIM_TOKEN, http_process: bool = False, access_log: AccessLog = "off",
                 environment: Mapping[str, str] | None = None, clock: Clock | None = None) -> None:
        self.database_url = database_url
        self.clock: Clock = clock or SystemClock()
        self.aws_endpoint = aws_endpoint  # reuse a running AWS endpoint instead of starting moto
        self.port = port
        self.prefix = prefix
        self.with_pollers = pollers
        self.with_cron = cron
        self.poller_concurrency = poller_concurrency
        self.retry_base_s = retry_base_s
        self.write_state = write_state
        self.moto: MotoServer | None = None if aws_endpoint else MotoServer()
        self._saved_env: dict[str, str | None] = {}
        self.pollers: dict[str, FunctionPoller] = {}  # by function: its normal queue's poller
        self.high_pollers: dict[str, FunctionPoller] = {}  # by function: its high-priority queue's poller
        self.handlers: dict[str, ModuleType] = {}
        self.http: LocalHttp | HttpProcess | None = None
        self.cron: CronDriver | None = None
        self.queue_urls: dict[str, str] = {}
        if github not in ("auto", "sim", "env"):
            raise ValueError(f"github must be auto, sim or env, not {github!r}")
        use_sim = github == "sim" or (github == "auto" and not any(os.environ.get(k) for k in REAL_GITHUB_ENV))
        self.simulator: Simulator | None = (simulator or Simulator(clock=self.clock.now)) if use_sim else None
        self.changes_every_s = changes_every_s
        self.github_token = github_token  # what the functions send the simulator (it accepts any token)
        self.http_process = http_process  # the HTTP endpoint in a process of its own (see http_process)
        self.access_log = access_log  # where the HTTP endpoint's request lines go (see http.access_log)
        # more of the functions' environment (e.g. OPENAI_API_KEY), as a deployment's parameters set it
        self.environment = dict(environment or {})

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> LocalStack:
        self.database_url = self.database_url or postgres.database_url()
        endpoint = self.moto.start() if self.moto else str(self.aws_endpoint)
        self.aws_endpoint = endpoint
        self._set_env({**aws_environment(endpoint), **{
            "DATABASE_URL": self.database_url,
            "CONTRIBSYNC_QUEUE_PREFIX": self.prefix,
            "CONTRIBSYNC_RETRY_BASE_SECONDS": str(self.retry_base_s),
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "GITHUB_WEBHOOK_SECRET": os.environ.get("GITHUB_WEBHOOK_SECRET") or LOCAL_WEBHOOK_SECRET,
            # the event API takes the public key contributor-info, from 127.0.0.1 only (contribsync.settings)
            LOCAL_STACK_ENV: "1",
            **self.environment,
        }})
        if self.simulator is not None:
            self._start_simulator(self.simulator)
        self.db = Database(self.database_url, application_name="contribsync-local")
        migrate(self.db)
        # every poller thread may hold a connection at once: two queues per function, each up to the
        # stack's concurrency, and a few for the stack's own calls
        self.sqs = sqs_client(pool=2 * len(catalog.EVENTS) * self.poller_concurrency + 8)
        self.queue_urls = create_queues(self.sqs, self.prefix)
        self.queues = Queues(self.sqs, prefix=self.prefix, clock=self.clock)
        tag = f"_{id(self)}"
        for event in catalog.EVENTS:
            self.handlers[event.function] = load_handler(event.function, tag=tag, clock=self.clock)
        for function in URL_FUNCTIONS:
            if (FUNCTIONS / catalog.folder_of(function) / "app.py").exists():
                self.handlers[function] = load_handler(function, tag=tag, clock=self.clock)
        if self.with_pollers:
            for event in catalog.EVENTS:
                self.start_poller(event.function)
        if self.with_cron:
            self.cron = CronDriver(self.queues, clock=self.clock)
            self.cron.start()
        webhook = self.handlers.get("WebhookReceiver")
        if self.http_process:
            self.http = HttpProcess(port=self.port, functions=len(self.pollers), prefix=self.prefix,
                                    access_log=self.access_log)
        else:
            access_log(self.access_log)
            self.http = LocalHttp(event_api=self.handlers["EventApi"].lambda_handler,
                                  webhook=webhook.lambda_handler if webhook else None,
                                  health=self.health, dashboard=Dashboard(self.db, self.queues), port=self.port)
        self.http.start()
        if self.simulator is not None and self.changes_every_s > 0:
            self.simulator.start_changes(f"{self.http.url}/webhook", os.environ["GITHUB_WEBHOOK_SECRET"],
                                         every_s=self.changes_every_s)
        if self.write_state:
            write_private(STATE_FILE, json.dumps(self.state(), indent=2))
        return self

    def _start_simulator(self, simulator: Simulator) -> None:
        """Start the simulator and point the functions at it: with a personal token, or as its GitHub App
        (``GITHUB_APP_ID`` and the App's key) when it has installations."""
        simulator.start()
        app = simulator.installations
        if app is not None and app.private_key:
            self._set_env({"GITHUB_API_URL": simulator.url, "GITHUB_APP_ID": app.app_id,
                           "GITHUB_APP_PRIVATE_KEY": app.private_key})
            unset: tuple[str, ...] = ("GITHUB_TOKEN", "GITHUB_APP_INSTALLATION_ID")
        else:
            self._set_env({"GITHUB_API_URL": simulator.url, "GITHUB_TOKEN": self.github_token})
            unset = ("GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY")
        for key in unset:
            self._saved_env.setdefault(key, os.environ.pop(key, None))

    def _set_env(self, values: dict[str, str]) -> None:
        """Point this process (and so every handler in it) at the stack; undone by ``stop``."""
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def start_poller(self, function: str, *, concurrency: int | None = None) -> FunctionPoller:
        """Start the function's two event source mappings: its queue's poller (returned; ``concurrency``
        workers, by default the stack's, or fewer for a global limit) and its high-priority queue's, with
        workers of its own that take one message at a time, so a backlog never delays urgent work."""
        event = catalog.by_function(function)
        limit = event.concurrency
        # under a global limit, more workers than it allows would only see their runs deferred
        cap = limit.n if limit and limit.key is None else self.poller_concurrency
        handler = self.handlers[function].lambda_handler
        poller = FunctionPoller(
            self.sqs, function=function, queue_url=self.queues.url(event.queue), handler=handler,
            batch_size=event.batch_size, concurrency=concurrency or min(self.poller_concurrency, cap),
            timeout_s=event.timeout_s,
        )
        high = FunctionPoller(
            self.sqs, function=function, queue_url=self.queues.url(event.high_queue), handler=handler,
            batch_size=catalog.HIGH_PRIORITY_BATCH_SIZE, timeout_s=event.timeout_s,
            concurrency=min(self.poller_concurrency, cap, catalog.HIGH_PRIORITY_CONCURRENCY),
        )
        poller.start()
        high.start()
        self.pollers[function] = poller
        self.high_pollers[function] = high
        return poller

    def every_poller(self) -> list[FunctionPoller]:
        """The pollers of every function's two queues."""
        return [*self.pollers.values(), *self.high_pollers.values()]

    def stop(self) -> None:
        if self.cron:
            self.cron.stop()
        for poller in self.every_poller():  # signal every poller first: their long polls end together
            poller.signal_stop()
        for poller in self.every_poller():
            poller.stop()
        if self.simulator is not None:
            self.simulator.stop()
        if self.http:
            self.http.stop()
        if self.moto:
            self.moto.stop()
        for module in self.handlers.values():
            close_handler(module)
        self.db.close()
        self._restore_env()
        if self.write_state and STATE_FILE.exists():
            STATE_FILE.unlink()

    def _restore_env(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- inspection -----------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What ``.local/stack.json`` tells the CLI's commands: where SQS and HTTP are, the queue prefix, the
        process; the database URL only as shown, its password masked (the commands find the database
        themselves: ``DATABASE_URL`` or the embedded server)."""
        return {"aws_endpoint": self.aws_endpoint, "http": self.http.url if self.http else None,
                "queue_prefix": self.prefix, "database_url": Masker()(self.database_url or ""), "pid": os.getpid(),
                "github_api_url": os.environ.get("GITHUB_API_URL", "https://api.github.com")}

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "functions": len(self.pollers), "queue_prefix": self.prefix, "pid": os.getpid()}

    def depth(self, queue: str) -> int:
        """Messages in a queue, visible or in flight (delayed ones included)."""
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.queues.url(queue), AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed"])["Attributes"]
        return sum(int(v) for v in attrs.values())

    def backlog(self, function: str) -> int:
        """Messages in both of a function's queues (see ``depth``)."""
        return sum(self.depth(queue) for queue in catalog.by_function(function).queues)

    def wait_idle(self, timeout_s: float = 60, *, until: Callable[[], bool] | None = None) -> bool:
        """Wait until every function queue (high-priority ones too) is empty and no poller is busy (or
        ``until`` holds)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if until is not None and until():
                return True
            if until is None and self._idle():
                return True
            time.sleep(0.2)
        return False

    def _idle(self) -> bool:
        pollers = self.every_poller()
        taken = sum(p.invocations for p in pollers)
        if any(p.busy for p in pollers) or any(self.backlog(e.function) for e in catalog.EVENTS):
            return False
        # A batch taken while the queues were read one by one may have sent to a queue already read.
        return not any(p.busy for p in pollers) and sum(p.invocations for p in pollers) == taken
