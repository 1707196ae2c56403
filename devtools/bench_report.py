"""``make bench``'s last step: every scenario's figures in one ``bench/results.json`` and ``bench/RESULTS.md``.

Each benchmark writes its own file under ``bench/results/`` (``capture``, ``peers``, ``webhooks``,
``embeddings``, ``workspaces``, ``imports``, ``chaos``, ``fleet``); this gathers them and writes the table a
reader compares. A scenario whose file is missing is listed as not measured, never filled in.
Ratios are computed within each scenario's own run, never across runs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
COMBINED = ROOT / "bench" / "results.json"
MARKDOWN = ROOT / "bench" / "RESULTS.md"
THOUSANDS = 1000
SCENARIOS = ("capture", "peers", "webhooks", "embeddings", "workspaces", "imports", "chaos", "fleet")


def load() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in SCENARIOS:
        path = RESULTS_DIR / f"{name}.json"
        found[name] = json.loads(path.read_text()) if path.exists() else None
    return found


def _get(data: Any, *path: str, default: Any = None) -> Any:  # noqa: ANN401 - JSON values
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return default
        data = data[key]
    return data


def _fmt(value: Any) -> str:  # noqa: ANN401 - JSON values
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < THOUSANDS else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _full_sync(r: dict[str, Any]) -> list[str]:
    """The peers' run when there is one (every tool measured in that one run), else the capture run."""
    capture, peers = r["capture"], r["peers"]
    if peers is not None:
        return _peers(peers)
    if capture is None:
        return ["Not measured (run `python -m devtools.bench` and `python -m devtools.bench_peers`).", ""]
    sync, seed = capture.get("sync", {}), capture.get("seed_like", {})
    rows: list[list[Any]] = [
        ["contribsync", sync.get("wall_s"), sync.get("requests"), sync.get("points"),
         _completeness(sync.get("completeness")), "measured"],
        ["seed-like (100 newest by GraphQL, REST per PR)", _get(seed, "extrapolated_to_all", "wall_s"),
         _get(seed, "extrapolated_to_all", "requests"), seed.get("points"), "100 newest PRs only",
         f"extrapolated from {seed.get('prs_captured')} PRs"],
    ]
    return [f"{sync.get('prs', '?')} PRs; {sync.get('graphql_latency_s')} s per GraphQL page, "
            f"{seed.get('rest_latency_s')} s per REST request. Peers not measured (`python -m devtools.bench_peers`).",
            "", *_table(["tool", "wall s", "GitHub requests", "points", "completeness", "wall time is"], rows)]


def _peers(peers: dict[str, Any]) -> list[str]:
    rows = []
    for name, tool in peers.get("tools", {}).items():
        projected = str(tool.get("wall_basis", "")).startswith("projected")
        requests = tool.get("projected_requests") if projected else tool.get("requests")
        points = _get(tool, "projected_points" if projected else "points", "total")
        basis = tool.get("wall_basis", "")
        if projected and tool.get("measured_wall_s"):
            basis = f"{basis}, from {tool['measured_wall_s']:.0f} s measured"
        rows.append([f"{name} {tool.get('version', '')}".strip(), tool.get("wall_s"), requests, points,
                     _completeness(tool.get("completeness")), basis])
    lines = [f"{peers.get('prs')} PRs with reviews and comments, {peers.get('graphql_latency_s')} s per GraphQL "
             f"request and {peers.get('rest_latency_s')} s per REST request, every tool in one run "
             f"(`bench/results/peers.json`, measured {peers.get('measured_at')}). Completeness is the share of "
             "the simulator's items, by GitHub id, that the tool delivered.", "",
             *_table(["tool", "wall s", "GitHub requests", "points", "completeness %", "wall time is"], rows)]
    for name, tool in peers.get("tools", {}).items():
        lines += [f"- **{name}**: {note}" for note in tool.get("notes", [])]
    if ratios := peers.get("ratios"):
        lines += ["", "Against contribsync in the same run: " + "; ".join(
            f"{name} {r.get('wall_vs_contribsync')}x the wall time and {r.get('requests_vs_contribsync')}x the "
            f"requests ({r.get('basis')})" for name, r in ratios.items()) + "."]
    return [*lines, ""]


def _completeness(value: Any) -> str:  # noqa: ANN401 - JSON values
    """``{kind: percent}`` or ``{kind: {"percent": ...}}`` as "pull_requests 100, reviews 26, …"."""
    if not isinstance(value, dict):
        return _fmt(value)
    parts = []
    for kind, v in value.items():
        percent = v.get("percent") if isinstance(v, dict) else v
        parts.append(f"{kind} {percent:.0f}" if isinstance(percent, int | float) else f"{kind} n/a")
    return ", ".join(parts)


def _incremental(r: dict[str, Any]) -> list[str]:
    inc = _get(r["capture"], "sync", "incremental") or _get(r["peers"], "tools", "contribsync", "bench_sync",
                                                              "incremental")
    if inc is None:
        return ["Not measured.", ""]
    return _table(["changes", "wall s", "requests", "points", "vs full sync (requests / wall)", "DB = ground truth"],
                  [[inc["changes"], inc["wall_s"], inc["requests"], inc["points"],
                    f"{inc['vs_full_sync']['requests']} / {inc['vs_full_sync']['wall']}",
                    "yes" if inc["matches_ground_truth"] else "NO"]])


def _webhooks(r: dict[str, Any]) -> list[str]:
    w = r["webhooks"]
    if w is None:
        return ["Not measured.", ""]
    rows = [[name, _get(v, "receiver_in_process", "p50_ms"), _get(v, "receiver_in_process", "p99_ms"),
             _get(v, "local_stack", "deliveries_per_s"), _get(v, "raw_sqs", "messages_per_s"),
             v.get("stack_vs_raw_sqs")]
            for name, v in w.items() if isinstance(v, dict) and "receiver_in_process" in v]
    lines = _table(["SQS endpoint", "receiver p50 ms", "p99 ms", "stack deliveries/s", "raw SQS msgs/s",
                    "stack / raw (target ≥ 0.8)"], rows)
    rounds = {name: v["rounds"] for name, v in w.items() if isinstance(v, dict) and "rounds" in v}
    if rounds:
        lines += ["The median of alternated rounds; every round's stack / raw: " + "; ".join(
            f"{name} {', '.join(str(x['stack_vs_raw_sqs']) for x in each)}" for name, each in rounds.items()), ""]
    parts = ("this_process", "stack_http", "postgres", "sqs_endpoint", "github_senders", "other")
    cpu = [[f"{name}: {label}", *(_get(v, side, "cpu", "ms_per_unit", part, default=0) for part in parts),
            _get(v, side, "cpu", "cores_busy")]
           for name, v in w.items() if isinstance(v, dict)
           for side, label in (("raw_sqs", "raw SQS, per message"), ("local_stack", "stack, per delivery"))
           if _get(v, side, "cpu")]
    if cpu:
        lines += ["CPU ms by process in the median round (`this process`: the stack's pollers and handlers, or "
                  "the raw SQS client; `stack HTTP`: the stack's HTTP process, the webhook receiver), and the "
                  "machine's busy cores of 2:", "",
                  *_table(["round", "this process", "stack HTTP", "Postgres", "SQS endpoint", "GitHub senders",
                           "other", "cores busy"], cpu)]
    return lines


def _upserts(r: dict[str, Any]) -> list[str]:
    u = _get(r["capture"], "upserts")
    if u is None:
        return ["Not measured.", ""]
    narrow = u.get("narrow_table", {})
    lines = _table(["table", "rows", "COPY + upsert rows/s", "executemany rows/s", "ratio"], [
        ["pull_requests (25 columns, 7 indexes, 3 foreign keys, 5 CHECKs)", u.get("rows"),
         _get(u, "copy_upsert", "rows_per_s"), _get(u, "executemany", "rows_per_s"), u.get("copy_vs_executemany")],
        ["narrow (4 columns, primary key)", narrow.get("rows"), narrow.get("copy_upsert_rows_per_s"),
         narrow.get("executemany_rows_per_s"), narrow.get("copy_vs_executemany")]])
    if "execute_per_row_rows_per_s" in narrow:
        lines += ["Every upsert method calibrated, on the narrow table (rows/s):", "",
                  *_table(["COPY text + upsert (store.write's)", "COPY binary + upsert", "unnest arrays",
                           "executemany (pipelined)", "one execute per row"],
                          [[narrow.get(f"{m}_rows_per_s") for m in ("copy_upsert", "copy_binary_upsert",
                                                                    "unnest_upsert", "executemany",
                                                                    "execute_per_row")]])]
    return lines


def _embeddings(r: dict[str, Any]) -> list[str]:
    e = r["embeddings"]
    if e is None:
        return ["Not measured.", ""]
    seed = _get(e, "seed_like", "extrapolated", default={})
    return _table(["strategy", "items", "wall s", "OpenAI requests", "note"], [
        ["contribsync", _get(e, "ours", "embedded"), _get(e, "ours", "wall_s"), _get(e, "ours", "requests"),
         f"{_get(e, 'ours', 'tokens')} tokens, ${_get(e, 'ours', 'cost_usd')}"],
        ["seed (batch and delay)", seed.get("items"), seed.get("wall_s"), seed.get("requests"),
         f"extrapolated from {_get(e, 'seed_like', 'measured_run', 'items')} items"]])


def _workspaces(r: dict[str, Any]) -> list[str]:
    w = r["workspaces"]
    if w is None:
        return ["Not measured.", ""]
    sizes = _get(w, "dataset", "sizes", default={})
    return _table(["dataset", "p50 s", "max s", "target p50 s", "met"], [[
        f"{sizes.get('repositories')} repos, {sizes.get('pull_requests')} PRs", _get(w, "aggregate", "p50_s"),
        _get(w, "aggregate", "max_s"), w.get("target_p50_s"), "yes" if w.get("met") else "no"]])


def _imports(r: dict[str, Any]) -> list[str]:
    i = r["imports"]
    if i is None:
        return ["Not measured.", ""]
    rows = [[name, f["total_ms"], f["own_ms"], f["libraries_ms"]] for name, f in i["functions"].items()]
    s = i["summary"]
    total = (f" Largest in all: {s['max_total_ms']} ms, median {s['median_total_ms']} ms (target ≤ "
             f"{i['target_total_ms']} ms). Load average during the run: {i['load_average']}."
             if "target_total_ms" in i else "")
    return [f"Python {i['python']}, median of {i['runs_per_function']} fresh interpreters per handler. Largest of "
            f"our own: {s['max_own_ms']} ms (target ≤ {i['target_own_ms']} ms).{total} Targets: "
            f"{'met' if s['all_within_target'] else 'NOT met'}.", "",
            *_table(["function", "total ms", "ours ms", "libraries ms"], rows)]


def _chaos(r: dict[str, Any]) -> list[str]:
    c = r["chaos"]
    if c is None:
        return ["Not measured (run `make chaos`).", ""]
    flat = [[k, json.dumps(v) if isinstance(v, dict | list) else v] for k, v in c.items() if k != "measured_at"]
    return _table(["figure", "value"], flat)


def _fleet(r: dict[str, Any]) -> list[str]:
    from devtools.fleet_figures import markdown

    return markdown(r["fleet"]) if r["fleet"] is not None else ["Not measured (run `make fleet`).", ""]


def render(r: dict[str, Any]) -> str:
    sections = [("Full sync against peers", _full_sync),
                ("Incremental: one day of changes, webhooks off", _incremental),
                ("Webhook ingest", _webhooks), ("DB bulk upsert: set-based vs row by row", _upserts),
                ("Embeddings: 5,000 items", _embeddings), ("Workspace metrics", _workspaces),
                ("Handler cold import", _imports), ("Chaos", _chaos),
                ("Fleet: repositories over several App installations, scaled clock", _fleet)]
    measured = {k: _get(v, "measured_at") for k, v in r.items() if v is not None}
    lines = ["# Benchmark results", "",
             "Written by `make bench` (`devtools/bench_report.py`) from the files in `bench/results/`. Every "
             "scenario runs on the local stack against the GitHub simulator; ratios compare figures of one run.", "",
             "Measured: " + ", ".join(f"{k} {v}" for k, v in measured.items()), ""]
    for title, section in sections:
        lines += [f"## {title}", "", *section(r)]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    results = load()
    COMBINED.write_text(json.dumps({"written_at": datetime.now(UTC).isoformat(timespec="seconds"), **results},
                                   indent=2, default=str) + "\n")
    MARKDOWN.write_text(render(results))
    print(f"written {COMBINED.relative_to(ROOT)} and {MARKDOWN.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
