"""A clone of the repository runs with nothing beside it: no file refers to a path outside it.

Every file git would commit (code, tests, SQL, GraphQL, ``Makefile``, ``.ci/run``, the docs, the
benchmark results) is read as text and checked for:
- a relative path (``../x``) that leaves the repository, from the file's folder or from the root (a
  script's working folder);
- ``Path(__file__)`` climbing (``.parent``, ``.parents[n]``) above the repository's root, or a
  root constant's ``.parent``;
- an absolute path of a developer's machine (``/work/``, ``/home/``, ``/Users/``);
- a document name in capitals (``SOME_DOC.md``) that no file in the repository has;
- the reference kit's corpus (``shared/corpus``), which only a development machine has.

The data copied in from GitHub and octokit (``tests/fixtures/github``, ``contribsync_sim/github_schema``)
is upstream's bytes, kept unedited, and is not read as the project's text.
"""

from __future__ import annotations

import os
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SELF = str(Path(__file__).resolve().relative_to(ROOT))
UPSTREAM_DATA = ("tests/fixtures/github/", "contribsync_sim/github_schema/")
SKIP_DIRS = {".git", ".venv", ".venv-sam", ".local", ".aws-sam", "__pycache__", ".mypy_cache", ".ruff_cache",
             ".pytest_cache", "node_modules", "build", "dist"}

RELATIVE = re.compile(r"(?<![\w.\-/~])((?:\.\./)+[\w.\-/]*)")
CLIMB = re.compile(r"Path\(__file__\)(?:\.resolve\(\)|\.absolute\(\))?((?:\.parent\b)*)(?:\.parents\[(\d+)\])?")
ROOT_PARENT = re.compile(r"\b(?:ROOT|REPO|PROJECT)(?:_DIR|_ROOT)?\.parent\b")
MACHINE = re.compile(r"(?<![\w.])/(?:work|home|Users)/[\w.\-]+")
DOC = re.compile(r"\b[A-Z][A-Z0-9_]{2,}\.md\b")
CORPUS = re.compile(r"shared/corpus")


@cache
def project_files() -> tuple[str, ...]:
    """What a commit would hold: tracked files plus new ones git does not ignore."""
    try:
        listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):  # an exported tree without .git: walk it
        listed = []
        for folder, dirs, files in os.walk(ROOT):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
            listed += [str((Path(folder) / f).relative_to(ROOT)) for f in files]
    return tuple(sorted(f for f in listed if (ROOT / f).is_file()))


def project_text() -> list[tuple[str, str]]:
    texts = []
    for name in project_files():
        if name.startswith(UPSTREAM_DATA) or name == SELF:  # this file shows what the check finds
            continue
        try:
            texts.append((name, (ROOT / name).read_text(encoding="utf-8")))
        except UnicodeDecodeError:  # images and other binary files
            continue
    return texts


def outside(start: Path, relative: str) -> bool:
    return not (start / relative).resolve().is_relative_to(ROOT)


def escapes(name: str, text: str) -> list[str]:
    """Every reference of ``text`` (the file ``name``) to a path outside the repository."""
    found: list[str] = []
    here = (ROOT / name).parent
    for m in RELATIVE.finditer(text):
        path = m.group(1)
        # a Markdown link is read from its file's folder; elsewhere a path may also be run from the root
        if outside(here, path) or (not name.endswith(".md") and outside(ROOT, path)):
            found.append(path)
    depth = len(Path(name).parts)  # a file at the root is 1 level below ROOT's parent
    for m in CLIMB.finditer(text):
        ups = m.group(1).count(".parent") + (int(m.group(2)) + 1 if m.group(2) is not None else 0)
        if ups > depth:
            found.append(m.group(0))
    found += [m.group(0) for m in ROOT_PARENT.finditer(text)]
    found += [m.group(0) for m in MACHINE.finditer(text)]
    names = {Path(f).name for f in project_files()}
    found += [m.group(0) for m in DOC.finditer(text) if m.group(0) not in names]
    found += [m.group(0) for m in CORPUS.finditer(text)]
    return found


def test_no_file_of_the_repository_refers_to_a_path_outside_it():
    texts = project_text()
    assert len(texts) > 100  # the walk found the project
    assert {"Makefile", ".ci/run", "README.md", "tests/conftest.py"} <= {name for name, _ in texts}
    bad = {name: refs for name, text in texts if (refs := escapes(name, text))}
    assert bad == {}


@pytest.mark.parametrize(("name", "text"), [
    ("tests/unit/test_x.py", 'CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"'),
    ("devtools/gen.py", 'PING = ROOT.parent / "shared" / "ping.json"'),
    ("devtools/gen.py", "HERE = Path(__file__).parent.parent.parent"),
    ("README.md", "The schema is in `../shared/github-schema.graphql`."),
    ("shared/contribsync/x.py", "# see ../../../DESIGN.md"),
    ("contribsync_sim/x.py", '"""As DESIGN.md has it."""'),
    ("Makefile", "\tcp /work/main/.env ."),
    (".ci/run", "test -d ../shared"),
])
def test_the_check_finds_each_kind_of_outside_reference(name, text):
    assert escapes(name, text)


@pytest.mark.parametrize(("name", "text"), [
    ("tests/unit/test_x.py", "ROOT = Path(__file__).resolve().parents[2]"),
    ("devtools/gen.py", "ROOT = Path(__file__).resolve().parent.parent"),
    ("tests/unit/test_x.py", 'see ``tests/../README.md``'),
    ("README.md", "`aws sqs send-message --queue-url .../contribsync-local-cancel-function`, README.md"),
    ("contribsync_sim/x.py", 'GITHUB_API = "https://api.github.com/repos/o/r/../r"'),
])
def test_the_check_passes_references_that_stay_inside(name, text):
    assert escapes(name, text) == []


def test_the_layer_carries_none_of_the_copied_github_data():
    # The Lambda layer's zip is shared/: GitHub's schema, payloads and recordings stay out of it.
    layer = [f for f in project_files() if f.startswith("shared/")]
    assert layer
    data_names = {Path(f).name for f in project_files() if f.startswith(UPSTREAM_DATA)}
    assert {"github-schema.graphql", "schema.json", "signature-vectors.json"} <= data_names
    assert [f for f in layer if Path(f).name in data_names or f.endswith(".payload.json")] == []
    # nothing large but migration 0000: contributor.info's DDL, generated from its schema, which names
    # where it comes from and its licence
    migrations = "shared/contribsync/db/migrations/"
    assert [f for f in layer if (ROOT / f).stat().st_size > 100_000 and not f.startswith(migrations)] == []
    baseline = " ".join((ROOT / migrations / "0000_contributor_info.sql").read_text().splitlines()[:2])
    assert "contributor.info at babb1aa, MIT" in baseline
