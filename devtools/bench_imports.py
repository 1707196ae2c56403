"""Handler cold import time, per function, with ``python -X importtime`` (``make bench``).

Each function's ``app.py`` is imported in a fresh interpreter, as a Lambda cold start does (bytecode
already compiled, as in a deployed package). CPython's import-time log gives each module's own
("self") time; a module is *ours* when it is the handler (``app``) or under ``contribsync``, and every
other module is a library. The figure per function is the median of ``--runs`` interpreters.

Targets: 150 ms or less of our own code per handler (issue "Benchmarks against peers"), and 700 ms or less
in all, libraries included (issue "One composition root"), each the median of the runs.
Results: ``bench/results/imports.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
RESULTS = ROOT / "bench" / "results" / "imports.json"
TARGET_OWN_MS = 150
TARGET_TOTAL_MS = 700
LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")
console = Console(width=120)


def _ours(module: str) -> bool:
    return module in {"app", "contribsync"} or module.startswith("contribsync.")


def measure_once(function_dir: Path) -> dict[str, Any]:
    """One fresh interpreter importing the handler; times in milliseconds."""
    env = {**os.environ, "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
           "PYTHONDONTWRITEBYTECODE": "1",
           # read at import by some handlers; nothing connects until the first invocation
           "DATABASE_URL": os.environ.get("DATABASE_URL", "postgresql://bench@127.0.0.1:9/unused"),
           "GITHUB_WEBHOOK_SECRET": "bench-secret"}
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import app"], cwd=function_dir, env=env,
                          capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{function_dir.name}: import failed: {done.stderr[-500:]}")
    own_us = total_us = 0
    own_modules: dict[str, int] = {}
    for line in done.stderr.splitlines():
        match = LINE.match(line)
        if match is None:
            continue
        self_us, cumulative_us, indent, module = int(match[1]), int(match[2]), match[3], match[4]
        if module == "app" and len(indent) == 1:
            total_us = cumulative_us
        if _ours(module):
            own_us += self_us
            own_modules[module] = self_us
    top = sorted(own_modules.items(), key=lambda kv: -kv[1])[:3]
    return {"total_ms": total_us / 1000, "own_ms": own_us / 1000,
            "top_own": [{"module": m, "ms": round(us / 1000, 1)} for m, us in top]}


def measure(function_dir: Path, runs: int) -> dict[str, Any]:
    samples = [measure_once(function_dir) for _ in range(runs)]
    total = statistics.median(s["total_ms"] for s in samples)
    own = statistics.median(s["own_ms"] for s in samples)
    return {"total_ms": round(total, 1), "own_ms": round(own, 1), "libraries_ms": round(total - own, 1),
            "own_share": round(own / total, 3) if total else 0.0, "top_own": samples[-1]["top_own"],
            "within_target": own <= TARGET_OWN_MS and total <= TARGET_TOTAL_MS}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench_imports", description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    # Compile once, as a deployed package ships (or Lambda caches) bytecode; the runs then measure imports.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(FUNCTIONS), str(ROOT / "shared")], check=True)
    functions = {d.name: measure(d, args.runs) for d in sorted(FUNCTIONS.iterdir()) if (d / "app.py").exists()}
    own = [f["own_ms"] for f in functions.values()]
    results = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "python": sys.version.split()[0],
        "runs_per_function": args.runs, "target_own_ms": TARGET_OWN_MS, "target_total_ms": TARGET_TOTAL_MS,
        "load_average": round(os.getloadavg()[0], 2), "functions": functions,
        "summary": {"max_own_ms": max(own), "median_own_ms": statistics.median(own),
                    "max_total_ms": max(f["total_ms"] for f in functions.values()),
                    "median_total_ms": statistics.median(f["total_ms"] for f in functions.values()),
                    "all_within_target": all(f["within_target"] for f in functions.values())},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    table = Table("function", "total ms", "ours ms", "libraries ms", "largest of ours", title="handler cold import")
    for name, f in functions.items():
        mark = "" if f["within_target"] else " [red]✘[/]"  # over either target
        biggest = ", ".join(f"{t['module']} {t['ms']}" for t in f["top_own"][:2])
        table.add_row(name, str(f["total_ms"]), f"{f['own_ms']}{mark}", str(f["libraries_ms"]), biggest)
    console.print(table)
    console.print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
