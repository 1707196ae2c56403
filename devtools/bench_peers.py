"""``python -m devtools.bench_peers``: contribsync against its peers, written to ``bench/results/peers.json``.

A full sync of one simulated repository (5,000 pull requests by default, with reviews, review comments,
conversation comments and issues) at 1 s per GraphQL page and 150 ms per REST page, by:

- **contribsync**'s enhanced sync and the **seed-like** strategy, measured by ``devtools.bench``'s own
  ``bench_sync`` and ``bench_seed_like`` (reused, so the ratios come from one run);
- **GrimoireLab Perceval** (``perceval github --category pull_request``, then ``--category issue`` for the
  issues and conversation comments, which the first never fetches), pointed at ``--enterprise-url``;
- **MeltanoLabs tap-github** (``api_url_base``), streams pull_requests, reviews, review_comments, issues
  and issue_comments.

Each peer is installed from PyPI into its own venv under ``.local/peers/<tool>/`` when missing, then runs
as a subprocess against one in-process simulator. The simulator's counters give each run's requests and
points (REST: 1 per answer, charged to the core budget; GraphQL: the query's cost). Completeness is the
distinct ids a tool emitted per kind against ``ground_truth(ds)``. A peer still running at
``--peer-timeout-s`` is stopped: it is reported with what it captured by then, its request rate and a
full-sync wall time **projected** from its measured requests per pull request (per issue-list item for
Perceval's ``issue`` category; its one-off and once-per-login requests are not scaled), labelled as such.
``--tools`` re-measures some tools and keeps the others' last figures.

Timings live here, never in the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from contribsync.db import Database
from contribsync_local import postgres
from contribsync_sim.dataset import Dataset, generate, ground_truth
from contribsync_sim.server import Knobs
from contribsync_sim.simulator import Simulator
from devtools import bench

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "peers.json"
PEERS_DIR = ROOT / ".local" / "peers"
WORK = ROOT / "bench" / "tmp" / "peers"
REST_LATENCY_S = bench.REST_LATENCY_S  # the same latency profile as devtools.bench
KINDS = ("pull_requests", "reviews", "review_comments", "issue_comments_on_prs", "issues")
# The databases devtools.bench leaves behind, read here for contribsync's and the seed-like ids.
SYNC_DB, SEED_DB = "contribsync_bench_sync", "contribsync_bench_seed"
console = bench.console


@dataclass(frozen=True)
class Peer:
    tool: str
    package: str
    version: str
    executable: str


PERCEVAL = Peer("perceval", "perceval", "1.6.1", "perceval")
TAP_GITHUB = Peer("tap-github", "meltanolabs-tap-github", "1.30.1", "tap-github")
TAP_STREAMS = ("pull_requests", "reviews", "review_comments", "issues", "issue_comments")


# -- installing -------------------------------------------------------------------------------------


def install(peer: Peer) -> dict[str, Any]:
    """``peer`` in its own venv, installed only when missing; the install time is kept beside it."""
    home = PEERS_DIR / peer.tool
    marker = home / "install.json"
    spec = f"{peer.package}=={peer.version}"
    if marker.exists() and (home / "bin" / peer.executable).exists():
        kept: dict[str, Any] = json.loads(marker.read_text())
        if kept.get("spec") == spec:
            return {**kept, "this_run": False}
    started = time.monotonic()
    subprocess.run(["python3.11", "-m", "venv", "--clear", str(home)], check=True)
    with (home / "install.log").open("w") as log:
        subprocess.run([str(home / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", spec],
                       check=True, stdout=log, stderr=subprocess.STDOUT)
    record = {"spec": spec, "install_s": round(time.monotonic() - started, 1),
              "installed_at": datetime.now(UTC).isoformat(timespec="seconds")}
    marker.write_text(json.dumps(record) + "\n")
    return {**record, "this_run": True}


def installed_version(peer: Peer) -> str:
    python = PEERS_DIR / peer.tool / "bin" / "python"
    return subprocess.run([str(python), "-c", f"import importlib.metadata as m; print(m.version('{peer.package}'))"],
                          check=True, capture_output=True, text=True).stdout.strip()


# -- running a peer ---------------------------------------------------------------------------------


def _env() -> dict[str, str]:
    """The environment without any GitHub token: tap-github checks every token it finds against
    api.github.com (hard-coded), and nothing here may reach GitHub."""
    return {**{k: v for k, v in os.environ.items() if not k.upper().startswith(("GITHUB_", "TAP_GITHUB_"))},
            "PYTHONUNBUFFERED": "1"}


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before.get(k, 0) for k in sorted(after) if after[k] != before.get(k, 0)}


def run(sim: Simulator, name: str, command: list[str], timeout_s: float) -> dict[str, Any]:
    """One peer command, stdout to ``WORK/<name>.out``, stopped at ``timeout_s``; with the simulator's
    counts of what it asked."""
    c = sim.app.counters
    before = (c.requests, dict(c.requests_by_resource), dict(c.points_by_resource), dict(c.endpoints))
    out, err = WORK / f"{name}.out", WORK / f"{name}.stderr.log"
    console.print(f"  {name}: {' '.join(command)}")
    started = time.monotonic()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=_env(), cwd=WORK,
                                start_new_session=True)
        try:
            proc.wait(timeout=timeout_s)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGTERM)  # its own session: the peer and nothing else
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    wall = time.monotonic() - started
    by_resource = _delta(before[1], c.requests_by_resource)
    points = _delta(before[2], c.points_by_resource)
    # Paths inside the checkout are kept relative to it: the figures must not name this machine's folders.
    shown = [part.replace(f"{ROOT}/", "") for part in command]
    return {"command": shown, "returncode": proc.returncode, "timed_out": timed_out, "wall_s": round(wall, 1),
            "requests": c.requests - before[0], "requests_by_resource": by_resource,
            "points": {"rest": points.get("core", 0), "graphql": points.get("graphql", 0)},
            "endpoints": _delta(before[3], c.endpoints), "stdout": str(out.relative_to(ROOT)),
            "stderr_tail": err.read_text(errors="replace").strip().splitlines()[-3:]}


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    """JSON lines; a line cut short when a peer was stopped is skipped."""
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(item, dict):
                yield item


def perceval_ids(path: Path) -> tuple[dict[str, set[int]], int]:
    """Ids per kind in Perceval's ``--json-line`` items, and the number of items."""
    ids: dict[str, set[int]] = {k: set() for k in (*KINDS, "issue_comments")}
    items = 0
    for item in _lines(path):
        items += 1
        data = item["data"]
        if item["category"] == "pull_request":
            ids["pull_requests"].add(data["id"])
            ids["reviews"].update(r["id"] for r in data.get("reviews_data", []))
            ids["review_comments"].update(r["id"] for r in data.get("review_comments_data", []))
        else:  # an issue, or the issue view of a pull request (pull requests are counted from their own items)
            if "pull_request" not in data:
                ids["issues"].add(data["id"])
            ids["issue_comments"].update(r["id"] for r in data.get("comments_data", []))
    return ids, items


def tap_ids(path: Path) -> tuple[dict[str, set[int]], int]:
    """Ids per kind in the tap's Singer records, and the number of pull request records."""
    ids: dict[str, set[int]] = {k: set() for k in (*KINDS, "issue_comments")}
    for message in _lines(path):
        if message.get("type") == "RECORD" and message.get("stream") in TAP_STREAMS:
            record = message["record"]
            if message["stream"] == "issues" and record.get("pull_request"):
                continue  # the issue view of a pull request
            ids[message["stream"]].add(record["id"])
    return ids, len(ids["pull_requests"])


# -- ground truth and completeness ------------------------------------------------------------------


def truth(ds: Dataset) -> dict[str, set[int]]:
    """Every id per kind, checked against ``ground_truth(ds)``'s counts."""
    repo = next(iter(ds.repos.values()))
    prs = ds.prs_by_repo[repo.id]
    ids = {"pull_requests": {p.id for p in prs},
           "reviews": {r.id for p in prs for r in ds.reviews_by_pr.get(p.id, [])},
           "review_comments": {c.id for p in prs for c in ds.review_comments_by_pr.get(p.id, [])},
           "issue_comments_on_prs": {c.id for c in ds.issue_comments.values() if c.repo_id == repo.id and c.is_pr},
           "issues": {i.id for i in ds.issues_by_repo[repo.id]}}
    counts = ground_truth(ds)["repos"][repo.full_name]
    expected = {"pull_requests": counts["pull_requests"]["total"], "reviews": counts["reviews"],
                "review_comments": counts["review_comments"],
                "issue_comments_on_prs": counts["issue_comments"]["on_prs"], "issues": counts["issues"]["total"]}
    if {k: len(v) for k, v in ids.items()} != expected:
        raise SystemExit("the id sets disagree with ground_truth(ds)")
    return ids


def completeness(emitted: dict[str, set[int]], expected: dict[str, set[int]]) -> dict[str, Any]:
    """Per kind: distinct true ids emitted, of how many, as a percentage."""
    out: dict[str, Any] = {}
    for kind in KINDS:
        got = emitted.get(kind, set())
        if kind == "issue_comments_on_prs":  # tools that emit every conversation comment
            got = got | emitted.get("issue_comments", set())
        hit = len(got & expected[kind])
        out[kind] = {"captured": hit, "of": len(expected[kind]),
                     "percent": round(100 * hit / len(expected[kind]), 1) if expected[kind] else None}
    return out


def database_ids(name: str) -> dict[str, set[int]]:
    """The ids a ``devtools.bench`` run stored in its database."""
    db = Database(postgres.create_database(postgres.server_url(), name))
    conn = db.connection()
    queries = {"pull_requests": "SELECT github_id FROM pull_requests", "reviews": "SELECT github_id FROM reviews",
               "review_comments": "SELECT github_id FROM comments WHERE comment_type = 'review_comment'",
               "issue_comments": "SELECT github_id FROM comments WHERE comment_type = 'issue_comment'",
               "issues": "SELECT github_id FROM issues"}
    ids = {kind: {row["github_id"] for row in conn.execute(sql)} for kind, sql in queries.items()}
    db.close()
    return ids


# Requests a peer makes once (a token check, tap-github's repository lookup) or once per login (Perceval's
# user and organisation lookups): a projection does not scale them with the pull requests.
ONCE = ("GET /rate_limit", "POST /graphql")
PER_LOGIN = ("GET /users/{login}", "GET /users/{login}/orgs")


def projection(r: dict[str, Any], done: int, total: int, unit: str, logins: int) -> dict[str, Any]:
    """A stopped run's full-sync figures: its requests per ``unit`` (the per-item and list routes) times
    ``total``, plus its one-off requests, and its user lookups at most once per login of the ``logins`` the
    repository has; the wall time at its measured request rate."""
    rate = r["requests"] / r["wall_s"] if r["wall_s"] else 0.0
    out: dict[str, Any] = {"requests_per_s": round(rate, 2), f"{unit}s_done": done, f"{unit}s_in_repository": total}
    if not r["timed_out"]:
        return out
    if not done or not rate:
        out["projected"] = None
        return out
    scale = total / done
    routes = r["endpoints"]
    per_item = sum(n for route, n in routes.items() if route not in ONCE + PER_LOGIN)
    users = sum(routes.get(route, 0) for route in PER_LOGIN)
    requests = per_item * scale + sum(routes.get(route, 0) for route in ONCE) + min(users * scale,
                                                                                      len(PER_LOGIN) * logins)
    out["projected"] = {"requests": round(requests), "wall_s": round(requests / rate),
                        f"requests_per_{unit}": round(per_item / done, 2),
                        "basis": f"PROJECTED: stopped at the cap; {per_item / done:.2f} requests per {unit} (list"
                                 f" pages and per-{unit} routes, measured) x {total} {unit}s, plus one-off requests"
                                 f" and user lookups (at most {len(PER_LOGIN)} per login, {logins} logins), at the"
                                 f" measured {rate:.2f} requests/s"}
    return out


def summarise(runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A tool's totals over its runs: measured, and projected where a run was stopped."""
    measured_wall = sum(r["wall_s"] for r in runs.values())
    wall = sum((r["projected"] or {}).get("wall_s", r["wall_s"]) if r["timed_out"] else r["wall_s"]
               for r in runs.values())
    requests = sum(r["requests"] for r in runs.values())
    projected = sum((r["projected"] or {}).get("requests", r["requests"]) if r["timed_out"] else r["requests"]
                    for r in runs.values())
    points = {k: sum(r["points"][k] for r in runs.values()) for k in ("rest", "graphql")}
    stopped = any(r["timed_out"] for r in runs.values())
    unprojectable = any(r["timed_out"] and r["projected"] is None for r in runs.values())
    out: dict[str, Any] = {
        "wall_s": round(wall, 1), "wall_basis": "projected" if stopped else "measured",
        "measured_wall_s": round(measured_wall, 1), "requests": requests,
        "points": {**points, "total": sum(points.values())}}
    if stopped:
        scale = projected / requests if requests else 0
        out["projected_requests"] = projected
        out["projected_points"] = {k: round(v * scale) for k, v in out["points"].items()}
    if unprojectable:
        out["wall_basis"] = "incomplete: a stopped run had nothing to project from"
    return out


def git_version() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False, cwd=ROOT, capture_output=True,
                          text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], check=False, cwd=ROOT, capture_output=True, text=True)
    return head.stdout.strip() + ("+uncommitted" if dirty.stdout.strip() else "")


# -- the tools ----------------------------------------------------------------------------------------


def bench_contribsync(prs: int, seed: int, expected: dict[str, set[int]]) -> dict[str, Any]:
    result = bench.bench_sync(prs, seed)
    db = Database(postgres.create_database(postgres.server_url(), SYNC_DB))
    details = db.connection().execute(
        "SELECT count(*) AS n FROM function_runs WHERE function = 'CapturePrDetails'").fetchone()
    db.close()
    detail_runs = details["n"] if details else 0
    notes = ["devtools.bench.bench_sync: capture/repository.sync-enhanced through the local stack (SQS, the"
             " Lambda-like poller, the embedded Postgres); its simulator adds 1 s per GraphQL request",
             "issues are captured by capture/repository.issues, a separate event this full pull request sync"
             " does not run, so issues are not measured here"]
    rest: int | None = 0
    if detail_runs:
        rest = None
        notes.append(f"{detail_runs} capture/pr.details runs used REST (not split out by bench_sync)")
    complete = completeness(database_ids(SYNC_DB), expected)
    complete["issues"] = {**complete["issues"], "percent": None, "note": "not in this sync"}
    return {"version": git_version(), "command": "devtools.bench.bench_sync (capture/repository.sync-enhanced)",
            "wall_s": result["wall_s"], "wall_basis": "measured", "run_s": result["run_s"],
            "requests": result["requests"],
            "points": {"rest": rest, "graphql": result["points"],
                       "total": None if rest is None else rest + result["points"]},
            "completeness": complete, "notes": notes, "bench_sync": result}


def bench_seed(prs: int, seed: int, expected: dict[str, set[int]]) -> dict[str, Any]:
    result = bench.bench_seed_like(prs, seed)
    extrapolated = result["extrapolated_to_all"]
    return {"version": git_version(), "command": "devtools.bench.bench_seed_like (100 newest by GraphQL, then"
            f" REST per PR, {result['concurrency']} at a time)",
            "wall_s": extrapolated["wall_s"], "wall_basis": "projected (bench_seed_like's extrapolation to every PR)",
            "measured_wall_s": result["wall_s"], "requests": result["requests"],
            "projected_requests": extrapolated["requests"],
            "points": {"rest": result["requests"] - 1, "graphql": result["points"]},  # its one GraphQL query
            "completeness": completeness(database_ids(SEED_DB), expected),
            "notes": ["one run captures the 100 newest pull requests by design (its completeness); wall and"
                      " requests are extrapolated to every PR by bench_seed_like"],
            "bench_seed_like": result}


def bench_perceval(sim: Simulator, ds: Dataset, timeout_s: float, expected: dict[str, set[int]]) -> dict[str, Any]:
    installed = install(PERCEVAL)
    repo = next(iter(ds.repos.values()))
    exe = str(PEERS_DIR / PERCEVAL.tool / "bin" / PERCEVAL.executable)
    runs: dict[str, dict[str, Any]] = {}
    emitted: dict[str, set[int]] = {}
    for category, total in (("pull_request", len(expected["pull_requests"])),
                            ("issue", len(expected["pull_requests"]) + len(expected["issues"]))):
        command = [exe, "github", repo.owner.login, repo.name, "--enterprise-url", sim.url, "-t", "perceval-bench",
                   "--category", category, "--json-line", "--no-archive"]
        r = run(sim, f"perceval-{category}", command, timeout_s)
        r["command"] = ["<sim>" if part == sim.url else part for part in r["command"]]
        ids, items = perceval_ids(ROOT / r["stdout"])
        for kind, values in ids.items():
            emitted.setdefault(kind, set()).update(values)
        r.update(projection(r, items, total, "pull_request" if category == "pull_request" else "item",
                            len(ds.users)))
        runs[category] = r
    return {"version": installed_version(PERCEVAL), "install": installed,
            "command": [" ".join(r["command"]).replace(r["command"][0], "perceval") for r in runs.values()],
            "simulator": sim.url,
            **summarise(runs), "completeness": completeness(emitted, expected), "runs": runs,
            "notes": [
                "--category pull_request fetches pull requests with reviews, review comments, commits and users"
                " but no conversation comments nor issues; --category issue (run after it, with its own time cap)"
                " fetches issues and pull requests' issue views with their conversation comments",
                "--enterprise-url points it at <sim>/api/v3; plain http works; -t gives it a token (it then asks"
                " /rate_limit first, which costs nothing); --no-archive: its default SQLite archive of every"
                " HTTP answer is a local cost, left out",
                "no workaround needed: everything it asks for is served"]}


def _tap_catalog(exe: str, config: Path) -> tuple[Path, int]:
    """The discovered catalog with ``TAP_STREAMS`` selected, and how many streams it has."""
    discovered = subprocess.run([exe, "--config", str(config), "--discover"], check=True, capture_output=True,
                                text=True, env=_env(), cwd=WORK).stdout
    catalog = json.loads(discovered)
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] in TAP_STREAMS
    path = WORK / "tap-github.catalog.json"
    path.write_text(json.dumps(catalog))
    return path, len(catalog["streams"])


def bench_tap(sim: Simulator, ds: Dataset, timeout_s: float, expected: dict[str, set[int]]) -> dict[str, Any]:
    installed = install(TAP_GITHUB)
    repo = next(iter(ds.repos.values()))
    exe = str(PEERS_DIR / TAP_GITHUB.tool / "bin" / TAP_GITHUB.executable)
    config = WORK / "tap-github.config.json"
    # No auth_token: the tap would first check it against https://api.github.com/rate_limit (hard-coded).
    config.write_text(json.dumps({"repositories": [repo.full_name], "api_url_base": sim.url,
                                  "start_date": "2000-01-01T00:00:00Z", "skip_parent_streams": True}))
    catalog, streams = _tap_catalog(exe, config)
    command = [exe, "--config", str(config), "--catalog", str(catalog)]
    r = run(sim, "tap-github", command, timeout_s)
    emitted, prs = tap_ids(ROOT / r["stdout"])
    r.update(projection(r, prs, len(expected["pull_requests"]), "pull_request", len(ds.users)))
    return {"version": installed_version(TAP_GITHUB), "install": installed,
            "command": " ".join(command).replace(exe, "tap-github").replace(str(WORK) + "/", ""),
            "simulator": sim.url,
            **summarise({"sync": r}), "completeness": completeness(emitted, expected), "runs": {"sync": r},
            "notes": [
                f"config api_url_base = the simulator; streams {', '.join(TAP_STREAMS)} selected in the discovered"
                f" catalog, the other {streams - len(TAP_STREAMS)} not; skip_parent_streams drops"
                " GET /repos/{o}/{r}",
                "run WITHOUT a token: the tap checks any auth_token or GITHUB_TOKEN* with GET"
                " https://api.github.com/rate_limit (hard-coded in TokenManager.is_valid_token), which must not"
                " be reached; the simulator gives the anonymous caller the same large budget, where real GitHub"
                " gives 60 requests an hour, so a real run needs a token (and, offline, that check patched out)",
                "repositories mode needs one GraphQL call (nameWithOwner, databaseId, rateLimit.cost); the"
                " streams are REST; reviews are one request per pull request (a child stream)"]}


# -- main ---------------------------------------------------------------------------------------------

TOOLS = ("contribsync", "seed-like", "perceval", "tap-github")


def _ratios(tools: dict[str, dict[str, Any]]) -> dict[str, Any]:
    ours = tools.get("contribsync")
    if ours is None:
        return {}
    out: dict[str, Any] = {}
    for name, figures in tools.items():
        if name == "contribsync":
            continue
        requests = figures.get("projected_requests", figures["requests"])
        out[name] = {"wall_vs_contribsync": round(figures["wall_s"] / ours["wall_s"], 1),
                     "requests_vs_contribsync": round(requests / ours["requests"], 1),
                     "basis": figures["wall_basis"]}
    return out


def _table(results: dict[str, Any]) -> Table:
    table = Table("tool", "wall s", "requests", "points REST+GraphQL", "PRs", "reviews", "review cmts",
                  "PR conv. cmts", "issues",
                  title=f"full sync of {results['prs']:,} PRs: {bench.GRAPHQL_LATENCY_S:g} s per GraphQL page,"
                        f" {REST_LATENCY_S * 1000:g} ms per REST page (P: projected; see the JSON)")
    for name, t in results["tools"].items():
        projected = t["wall_basis"] != "measured"
        wall = f"{t['wall_s']:,.0f}" + (f" P (ran {t.get('measured_wall_s', 0):,.0f})" if projected else "")
        requests = f"{t['requests']:,}" + (f" (P {t['projected_requests']:,})" if "projected_requests" in t else "")
        points = t["points"]
        percents = [t["completeness"][k]["percent"] for k in KINDS]
        table.add_row(f"{name} {t['version']}", wall, requests, f"{points['rest']}+{points['graphql']}",
                      *("-" if p is None else f"{p:g}%" for p in percents))
    return table


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench_peers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prs", type=int, default=5000, help="pull requests in the repository")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--peer-timeout-s", type=float, default=1200.0,
                        help="time cap of each peer command (tap-github needs about 900 s at 5,000 PRs)")
    parser.add_argument("--tools", default=",".join(TOOLS),
                        help=f"comma-separated, of {', '.join(TOOLS)}; the others keep their last figures when"
                             " those were measured on the same set-up")
    args = parser.parse_args(argv)
    chosen = [t.strip() for t in args.tools.split(",") if t.strip()]
    if unknown := set(chosen) - set(TOOLS):
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    WORK.mkdir(parents=True, exist_ok=True)
    ds = generate(args.seed, repos=1, prs_per_repo=args.prs)
    expected = truth(ds)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    setup = {"prs": args.prs, "seed": args.seed, "graphql_latency_s": bench.GRAPHQL_LATENCY_S,
             "rest_latency_s": REST_LATENCY_S, "peer_timeout_s": args.peer_timeout_s}
    results: dict[str, Any] = {"measured_at": now, **setup,
                               "ground_truth": {k: len(v) for k, v in expected.items()}, "tools": {}}
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if all(previous.get(k) == v for k, v in setup.items()):  # some tools re-measured: keep the others' figures
        results["tools"] = {k: v for k, v in previous.get("tools", {}).items() if k not in chosen}
    tools: dict[str, dict[str, Any]] = results["tools"]
    if "contribsync" in chosen:
        console.print(f"contribsync: enhanced sync of {args.prs} PRs …")
        tools["contribsync"] = {"measured_at": now, **bench_contribsync(args.prs, args.seed, expected)}
    if "seed-like" in chosen:
        console.print("seed-like strategy …")
        tools["seed-like"] = {"measured_at": now, **bench_seed(args.prs, args.seed, expected)}
    peers: dict[str, Callable[[Simulator, Dataset, float, dict[str, set[int]]], dict[str, Any]]] = {
        "perceval": bench_perceval, "tap-github": bench_tap}
    if chosen_peers := [p for p in peers if p in chosen]:
        knobs = Knobs(graphql_latency_s=bench.GRAPHQL_LATENCY_S, rest_latency_s=REST_LATENCY_S,
                      budget=dict(bench.BIG_BUDGET))
        with Simulator(dataset=ds, knobs=knobs) as sim:
            for name in chosen_peers:
                console.print(f"{name} (cap {args.peer_timeout_s:g} s per command) …")
                tools[name] = {"measured_at": now, **peers[name](sim, ds, args.peer_timeout_s, expected)}
    results["tools"] = {name: tools[name] for name in TOOLS if name in tools}
    results["ratios"] = _ratios(results["tools"])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    console.print(_table(results))
    console.print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
