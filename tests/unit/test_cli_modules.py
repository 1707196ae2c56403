"""The ``contribsync`` command's modules: each imports, none imports another in a cycle, and none takes a
private name from another module.

``main`` builds the parser from each command group's ``register`` and dispatches; the groups share their
printing through ``contribsync_cli.output``. Data goes one way: ``main`` → the groups → ``output`` and
``local_env``. A group that needs something of ``main`` (the demo runs commands) is handed it.
"""

from __future__ import annotations

import importlib

import pytest

from tests.import_graph import ROOT, dependencies, find_cycle, imports, is_private, modules

CLI = modules(ROOT / "contribsync_cli", "contribsync_cli")
FIRST_PARTY = ("contribsync", "contribsync_cli", "contribsync_local", "contribsync_ops", "contribsync_sim",
               "devtools")


@pytest.mark.parametrize("module", sorted(CLI))
def test_every_cli_module_imports(module):
    assert importlib.import_module(module).__name__ == module


def test_the_cli_modules_import_each_other_without_a_cycle():
    graph = dependencies(CLI)
    assert graph["contribsync_cli.main"] >= {"contribsync_cli.demo", "contribsync_cli.operations"}
    assert find_cycle(graph) is None, " → ".join(find_cycle(graph) or [])


def test_only_main_imports_main():
    importers = {module for module, targets in dependencies(CLI).items() if "contribsync_cli.main" in targets}
    assert importers == set()


def test_the_cycle_check_finds_a_lazy_import_back():
    # GIVEN main importing demo, and demo importing main inside a function, as demo once did
    graph = {"cli.main": {"cli.demo", "cli.output"}, "cli.demo": {"cli.output", "cli.main"}, "cli.output": set()}
    # THEN that is a cycle
    assert find_cycle(graph) == ["cli.demo", "cli.main", "cli.demo"]
    assert find_cycle({**graph, "cli.demo": {"cli.output"}}) is None


@pytest.mark.parametrize("module", sorted(CLI))
def test_no_cli_module_imports_a_private_name(module):
    taken = [f"{imp.module}.{imp.name} (line {imp.line})" for imp in imports(CLI[module], module)
             if imp.module.split(".")[0] in FIRST_PARTY
             and (is_private(imp.name or "") or any(is_private(part) for part in imp.module.split(".")))]
    assert taken == []
