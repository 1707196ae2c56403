"""The GitHub simulator as one object: dataset, GraphQL and REST handlers, HTTP server, change mode, and
the webhook's delivery log (``sim.deliveries``) that the REST hook endpoints serve.

``contribsync simulate-github``, ``contribsync dev``, ``make demo``, the tests and the benchmarks all start it
through ``Simulator``; the token any client sends is accepted (each one gets its own budget). With
``installations`` it is a GitHub App's world instead: several owners, each with an installation, its tokens
and its own budget (``installations.Installations``; ``sim.installations.used`` records which installation
served each request).

``clock`` (a callable giving the time, e.g. a ``ScaledClock``'s ``now``) is the simulator's time: its
rate-limit windows and reset times, the timestamps of the changes it makes and of its hook deliveries.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from contribsync_sim.changes import ChangeFeed, WebhookSender
from contribsync_sim.dataset import generate
from contribsync_sim.graphql_api import GraphQLApi
from contribsync_sim.hooks import DeliveryLog, HookApi
from contribsync_sim.rest_api import RestApi
from contribsync_sim.server import Knobs, SimulatorApp, SimulatorServer

if TYPE_CHECKING:
    from collections.abc import Callable

    from contribsync_sim.dataset import Dataset
    from contribsync_sim.installations import Installations

SIM_TOKEN = "sim-token"


class Simulator:
    """Start with ``with Simulator(seed=1, repos=3, prs_per_repo=200) as sim:``; ``sim.url`` is the API base."""

    def __init__(self, *, seed: int = 1, repos: int = 3, prs_per_repo: int = 200, knobs: Knobs | None = None,
                 port: int = 0, dataset: Dataset | None = None, installations: Installations | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.ds = dataset or generate(seed, repos=repos, prs_per_repo=prs_per_repo)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.deliveries = DeliveryLog(clock=self.clock)
        self.hooks = HookApi(self.ds, self.deliveries)
        self.installations = installations
        self.app = SimulatorApp(graphql=GraphQLApi(self.ds), rest=RestApi(self.ds, hooks=self.hooks), knobs=knobs,
                                installations=installations, clock=self.clock)
        self.port = port
        self.server: SimulatorServer | None = None  # bound on start, so an unstarted simulator holds no socket
        self._changes: ChangeLoop | None = None

    @property
    def url(self) -> str:
        if self.server is None:
            raise RuntimeError("the simulator is not started")
        return self.server.url

    def start(self) -> Simulator:
        self.server = SimulatorServer(self.app, port=self.port).start()
        return self

    def feed(self, secret: str, *, seed: int = 0) -> ChangeFeed:
        """Changes to this simulator's data; each delivery names its owner's installation when the simulator
        has App installations."""
        owners = None if self.installations is None else {
            i.account: i.id for i in self.installations.installations}
        return ChangeFeed(self.ds, api=self.url, secret=secret, seed=seed, lock=self.app.data_lock,
                          clock=self.clock, installations=owners)

    def sender(self, webhook_url: str, *, duplicate: float = 0.0, reorder: int = 0, drop: float = 0.0,
               seed: int = 0, copies: int = 1, workers: int = 1) -> WebhookSender:
        """A sender to ``webhook_url`` that logs every attempt in ``deliveries``. It becomes the webhook the
        REST API lists (``HOOK_ID`` on every repository, and the App's hook) and redelivers through."""
        sender = WebhookSender(webhook_url, duplicate=duplicate, reorder=reorder, drop=drop, seed=seed,
                               log=self.deliveries, copies=copies, workers=workers)
        self.hooks.sender = sender
        return sender

    def start_changes(self, webhook_url: str, secret: str, *, every_s: float = 5.0, duplicate: float = 0.0,
                      reorder: int = 0, drop: float = 0.0, seed: int = 0) -> ChangeLoop:
        """Change mode in a thread: one change every ``every_s`` seconds, delivered to ``webhook_url``."""
        self._changes = ChangeLoop(self.feed(secret, seed=seed),
                                   self.sender(webhook_url, duplicate=duplicate, reorder=reorder, drop=drop,
                                               seed=seed),
                                   every_s)
        self._changes.start()
        return self._changes

    def stop(self) -> None:
        if self._changes is not None:
            self._changes.stop()
        if self.server is not None:
            self.server.stop()
            self.server = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ChangeLoop:
    def __init__(self, feed: ChangeFeed, sender: WebhookSender, every_s: float) -> None:
        self.feed = feed
        self.sender = sender
        self.every_s = every_s
        self.changes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="github-sim-changes", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.sender.send(self.feed.step())
            self.changes += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.sender.flush()


__all__ = ["SIM_TOKEN", "ChangeLoop", "Simulator"]
