"""CPU seconds by part of the system over a measured stretch, read from Linux ``/proc``: what the webhook
benchmark reports per delivery and per message (``devtools/bench_webhooks.py``), and what
``tests/unit/test_cpu_meter.py`` checks. Not a benchmark itself: a helper the benchmark and its test share.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

_TICK = os.sysconf("SC_CLK_TCK")


def _machine_cpu() -> float:
    """CPU seconds the whole machine has been busy since boot (``/proc/stat``: all but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / _TICK


def _process_cpu() -> dict[int, tuple[str, float]]:
    """Every process's name and CPU seconds; a Postgres process's include its reaped children's (the
    backends that ended), no other's (this process reaps GitHub's senders, whose time is their own)."""
    out: dict[int, tuple[str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended while listed
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # from field 3 (state): utime is field 14
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        out[int(entry.name)] = (name, sum(int(f) for f in fields[11:15 if name == "postgres" else 13]) / _TICK)
    return out


class CpuMeter:
    """CPU seconds by part over a measured stretch (Linux ``/proc``), and the machine's busy cores.

    Parts: ``this_process`` (the local stack's pollers and handlers, or the raw client), ``stack_http``
    (the stack's HTTP process: the webhook receiver), ``postgres``, ``sqs_endpoint``, ``other``, and
    what ``add`` reports (GitHub's senders time themselves: their process ends inside the stretch). A
    process that ends inside the stretch is not counted, except Postgres's backends, which the
    postmaster's children's times hold."""

    def __init__(self, endpoint_pid: int | None, http_pid: int | None = None) -> None:
        self.parts = {os.getpid(): "this_process", endpoint_pid: "sqs_endpoint", http_pid: "stack_http"}
        self.cpu_s: dict[str, float] = {}

    def add(self, part: str, seconds: float) -> None:
        self.cpu_s[part] = self.cpu_s.get(part, 0.0) + seconds

    def __enter__(self) -> CpuMeter:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> CpuMeter:
        self._started = time.monotonic()
        self._machine = _machine_cpu()
        self._before = _process_cpu()
        return self

    def stop(self) -> None:
        self.wall_s = time.monotonic() - self._started
        self.machine_s = _machine_cpu() - self._machine
        for pid, (name, seconds) in _process_cpu().items():
            part = self.parts.get(pid) or ("postgres" if name == "postgres" else "other")
            self.add(part, seconds - self._before.get(pid, (name, 0.0))[1])

    def report(self, units: int) -> dict[str, Any]:
        """CPU ms per unit (delivery, message) by part, and cores busy on average (of ``os.cpu_count()``)."""
        cores = os.cpu_count() or 1
        # /proc/stat counts in ticks of 10 ms, read at two moments: a fully busy machine can read a hair
        # over its core count (2.01 of 2 was seen), which is still "all of them".
        busy = min(float(cores), self.machine_s / self.wall_s)
        return {"ms_per_unit": {part: round(seconds * 1000 / units, 2) for part, seconds in sorted(self.cpu_s.items())},
                "cores_busy": round(busy, 2), "cores": cores}


__all__ = ["CpuMeter"]
