"""Tests do not import benchmark scripts: what a test and a benchmark share lives in a devtools module
that is not one (``devtools.log_capture``, ``devtools.cpu_meter``), so changing a benchmark cannot break a
test by accident. The one exception is deliberate: ``test_chaos`` runs the chaos benchmark's own
scenario, reduced (``devtools.chaos.run``)."""

from __future__ import annotations

import pytest

from tests.import_graph import ROOT, imports, modules

# The scripts that measure and write bench/results/ (``make bench``, ``make chaos``).
BENCHMARKS = {f"devtools.{path.stem}" for path in ROOT.joinpath("devtools").glob("bench*.py")} | {"devtools.chaos"}
ALLOWED = {("tests.integration.test_chaos", "devtools.chaos")}
TESTS = modules(ROOT / "tests", "tests")


def test_the_benchmarks_are_found():
    assert {"devtools.bench", "devtools.bench_webhooks", "devtools.chaos"} <= BENCHMARKS


@pytest.mark.parametrize("module", sorted(TESTS))
def test_no_test_imports_a_benchmark_script(module):
    found = set()
    for imp in imports(TESTS[module], module):
        target = f"{imp.module}.{imp.name}" if f"{imp.module}.{imp.name}" in BENCHMARKS else imp.module
        if target in BENCHMARKS and (module, target) not in ALLOWED:
            found.add(f"{target} (line {imp.line})")
    assert found == set()
