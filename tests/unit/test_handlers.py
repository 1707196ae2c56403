"""The handlers under functions/ agree with the event catalog, file by file.

Every catalog function's app.py is generated (``devtools.gen_template``); these read the committed files,
so a hand edit, a stale file, a folder left behind or a generator bug all fail here.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
from pathlib import Path

import pytest

from contribsync import catalog
from devtools import gen_template

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
EVENTS = catalog.EVENTS
HAND_WRITTEN = {"event_api", "webhook_receiver", "migrate_database"}  # wired by hand: not catalog events


def committed(event: catalog.Event) -> str:
    return (FUNCTIONS / event.folder / "app.py").read_text()


@pytest.fixture(scope="module")
def generated_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("generated")
    gen_template.write(root)
    return root


def test_the_generator_writes_template_yaml_and_one_handler_per_catalog_function(generated_tree):
    written = {path.relative_to(generated_tree) for path in generated_tree.rglob("*") if path.is_file()}
    assert written == {Path("template.yaml")} | {Path("functions", e.folder, "app.py") for e in EVENTS}


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.function)
def test_the_committed_handler_is_what_the_generator_writes(event, generated_tree):
    assert committed(event) == (generated_tree / "functions" / event.folder / "app.py").read_text()


def test_every_catalog_function_has_a_folder_and_every_folder_a_function():
    folders = {app.parent.name for app in FUNCTIONS.glob("*/app.py")}
    assert len({e.folder for e in EVENTS}) == len(EVENTS)  # no two functions share a folder
    assert folders == {e.folder for e in EVENTS} | HAND_WRITTEN


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.function)
def test_each_handler_says_what_the_catalog_declares(event):
    module = ast.parse(committed(event))
    doc = ast.get_docstring(module)
    assert doc is not None
    doc = " ".join(doc.split())  # as read, not as wrapped
    assert doc.startswith(f"{event.function}: {event.summary}")
    for name in event.all_names:
        assert f"`{name}`" in doc
    module_name, _, function = event.service.partition(":")
    assert f"Service: `contribsync.services.{module_name}.{function}`." in doc
    assert callable(getattr(importlib.import_module(f"contribsync.services.{module_name}"), function))
    assert f"Retries: {event.retries}" in doc
    assert ("Concurrency: " in doc) == (event.concurrency is not None)
    assert ("Throttle: " in doc) == (event.throttle is not None)
    assert ("Schedule: " in doc) == (event.schedule is not None)
    if event.schedule is not None:
        assert f"`{event.schedule}`" in doc
    assert "dead-lettered until it ships" not in doc
    assert "Generated from the catalog by `make template`" in doc
    assert f'EVENT = catalog.by_function("{event.function}")' in committed(event)
    assert f"from contribsync.services.{module_name} import {function}\n" in committed(event)
    assert (f"RUNTIME = Runtime(EVENT, Clients.from_env(), service={function})\n"
            "lambda_handler = lambda_entry(RUNTIME.handle, function=EVENT.function)\n") in committed(event)


def test_the_hand_written_handlers_are_not_generated():
    for folder in HAND_WRITTEN:
        assert "Generated from the catalog" not in (FUNCTIONS / folder / "app.py").read_text()


def test_check_names_each_handler_that_is_edited_missing_or_left_behind(tmp_path):
    # GIVEN a tree exactly as the generator writes it
    gen_template.write(tmp_path)
    assert gen_template.stale(tmp_path) == []
    # WHEN a handler is edited by hand, another deleted, and a folder is left by a function no longer declared
    edited = tmp_path / "functions" / EVENTS[0].folder / "app.py"
    edited.write_text(edited.read_text().replace("Clients.from_env()", "Clients.from_env(application_name='x')"))
    (tmp_path / "functions" / EVENTS[1].folder / "app.py").unlink()
    (tmp_path / "functions" / "retired_function").mkdir()
    (tmp_path / "functions" / "retired_function" / "app.py").write_text('"""Gone from the catalog."""\n')
    # THEN each is named
    assert gen_template.stale(tmp_path) == [
        f"functions/{EVENTS[0].folder}/app.py is out of date: run `make template`",
        f"functions/{EVENTS[1].folder}/app.py is out of date: run `make template`",
        "functions/retired_function/ is no function of the template: delete it, or declare its function in the "
        "catalog",
    ]


def test_check_fails_naming_the_handler_when_only_its_docstring_would_change(monkeypatch, capsys):
    """An alias appears in the handler's docstring but nowhere in template.yaml: only the handler is named."""
    event = catalog.by_function("ClassifySingleRepository")
    changed = dataclasses.replace(event, aliases=(*event.aliases, "classify/another-name"))
    monkeypatch.setattr(catalog, "EVENTS", tuple(changed if e is event else e for e in EVENTS))
    assert gen_template.main(["--check"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "functions/classify_single_repository/app.py is out of date: run `make template`"]


def test_a_backslash_in_the_catalog_is_refused_rather_than_read_as_an_escape():
    event = dataclasses.replace(EVENTS[0], summary=r"matches \d+ digits")
    with pytest.raises(ValueError, match="backslash"):
        gen_template.handler_docstring(event)
