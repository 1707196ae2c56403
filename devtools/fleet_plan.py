"""The fleet scenario's plan: which repositories, of what size, under which owner, with webhooks or not, in
which workspaces, and when each changes over the simulated days.

Everything is drawn from one seed, so a run can be repeated and a reduced run (``make test``) is the
same shape as the full one (``make fleet``):

- sizes follow a power law (a Pareto tail, inverse-transform sampled): most repositories under 100 pull
  requests, a few over 20,000 in the full fleet, capped at ``max_prs``; the largest size is always drawn
  once, so the slowest backfill is in every run;
- owners take repositories round-robin after a shuffle, so each owner (each App installation) gets a
  mix of sizes;
- webhooks are on for ``webhook_share`` of repositories; the rest are kept fresh by the priority crons;
- changes arrive as a Poisson process per repository whose rate follows a daily cycle (a cosine peaking
  at ``peak_hour`` UTC, ``cycle_amplitude`` of the mean), the mean rate growing with the repository's
  size (a busy large repository changes more often than a small one).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

HOURS_PER_DAY = 24


@dataclass(frozen=True)
class FleetConfig:
    """The scenario's parameters (the issue's defaults)."""

    repositories: int = 1000
    owners: int = 10
    min_prs: int = 8
    max_prs: int = 25_000
    size_alpha: float = 0.7  # the Pareto tail's index: smaller, heavier
    webhook_share: float = 0.90
    lost_delivery_share: float = 0.01
    workspaces: int = 20
    repositories_per_workspace: int = 8
    days: float = 7.0
    changes_per_day_small: float = 0.5  # mean changes a day of a repository of min_prs
    changes_per_day_per_1k_prs: float = 4.0  # and this many more per 1,000 pull requests
    peak_hour: float = 15.0  # UTC: Europe's afternoon, America's morning
    cycle_amplitude: float = 0.8  # of the mean rate: 0 flat, 1 nothing at the trough
    seed: int = 25

    def reduced(self, repositories: int = 12, owners: int = 3, max_prs: int = 400, days: float = 1.0) -> FleetConfig:
        """The same scenario at ``make test`` size. Its repositories change ten times as often as the
        fleet's, so that a dozen of them make dozens of changes (at the fleet's rates half a day of them makes
        none to five, depending on where in the day's cycle the backfill ends), and a tenth of their
        deliveries are lost, so that the reconciliation has some to recover."""
        from dataclasses import replace

        return replace(self, repositories=repositories, owners=owners, max_prs=max_prs, days=days,
                       workspaces=2, repositories_per_workspace=3,
                       changes_per_day_small=self.changes_per_day_small * 10,
                       changes_per_day_per_1k_prs=self.changes_per_day_per_1k_prs * 10,
                       lost_delivery_share=0.1)


@dataclass(frozen=True)
class PlannedRepository:
    owner: str
    name: str
    prs: int
    webhooks: bool
    changes_per_day: float

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class Fleet:
    config: FleetConfig
    repositories: list[PlannedRepository]
    workspaces: dict[str, list[str]] = field(default_factory=dict)  # workspace slug -> full names

    def by_owner(self) -> dict[str, list[PlannedRepository]]:
        owners: dict[str, list[PlannedRepository]] = {}
        for repo in self.repositories:
            owners.setdefault(repo.owner, []).append(repo)
        return owners


def power_law_sizes(n: int, *, low: int, high: int, alpha: float, rng: random.Random) -> list[int]:
    """``n`` sizes from a Pareto distribution of index ``alpha`` starting at ``low``, capped at ``high``;
    the largest is ``high`` itself, so every fleet has its slowest repository."""
    if n <= 0:
        return []
    sizes = [min(high, int(low / (1.0 - rng.random()) ** (1.0 / alpha))) for _ in range(n - 1)]
    return sorted([high, *sizes], reverse=True)


def plan(config: FleetConfig) -> Fleet:
    rng = random.Random(config.seed)
    sizes = power_law_sizes(config.repositories, low=config.min_prs, high=config.max_prs,
                            alpha=config.size_alpha, rng=rng)
    rng.shuffle(sizes)
    owners = [f"fleet-org-{i}" for i in range(config.owners)]
    webhooked = set(rng.sample(range(config.repositories), round(config.repositories * config.webhook_share)))
    repositories = [
        PlannedRepository(owner=owners[i % config.owners], name=f"repo-{i}", prs=prs, webhooks=i in webhooked,
                          changes_per_day=config.changes_per_day_small + config.changes_per_day_per_1k_prs * prs / 1000)
        for i, prs in enumerate(sizes)]
    names = [r.full_name for r in repositories]
    workspaces = {f"fleet-ws-{w}": sorted(rng.sample(names, min(len(names), config.repositories_per_workspace)))
                  for w in range(config.workspaces)}
    return Fleet(config, repositories, workspaces)


def rate_at(config: FleetConfig, mean_per_day: float, at: datetime) -> float:
    """Changes an hour at ``at``: the daily mean shaped by the day's cycle (the cycle averages to 1)."""
    hour = at.hour + at.minute / 60
    shape = 1.0 + config.cycle_amplitude * math.cos(2 * math.pi * (hour - config.peak_hour) / HOURS_PER_DAY)
    return mean_per_day / HOURS_PER_DAY * shape


def arrivals(fleet: Fleet, start: datetime) -> list[tuple[datetime, PlannedRepository]]:
    """Every change of the simulated days, in time order: a Poisson process per repository, thinned to the
    daily cycle (Lewis-Shedler: candidates at the peak rate, each kept with rate/peak)."""
    config = fleet.config
    rng = random.Random(config.seed + 1)
    end = start + timedelta(days=config.days)
    changes: list[tuple[datetime, PlannedRepository]] = []
    for repo in fleet.repositories:
        peak = repo.changes_per_day / HOURS_PER_DAY * (1 + config.cycle_amplitude)  # an hour
        if peak <= 0:
            continue
        at = start
        while True:
            at += timedelta(hours=rng.expovariate(peak))
            if at >= end:
                break
            if rng.random() * peak <= rate_at(config, repo.changes_per_day, at):
                changes.append((at, repo))
    changes.sort(key=lambda change: (change[0], change[1].full_name))
    return changes


__all__ = ["Fleet", "FleetConfig", "PlannedRepository", "arrivals", "plan", "power_law_sizes", "rate_at"]
