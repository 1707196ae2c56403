"""What Lambda runs never imports what stays on the operator's machine.

The layer (``shared/contribsync``) and the handlers (``functions/*/app.py``) are deployed; the CLI, the
operator tools (``contribsync_ops``), the local stack, the GitHub simulator, the dev tools and the tests
are not. An import of one of them, even lazy or for typing only, would either fail on Lambda or pull
operator code into the layer. (``tests/integration/test_deploy.py`` checks the built layer itself.)
"""

from __future__ import annotations

import pytest

from tests.import_graph import ROOT, imports, modules

NOT_DEPLOYED = ("contribsync_cli", "contribsync_local", "contribsync_ops", "contribsync_sim", "devtools", "tests")
LAYER = modules(ROOT / "shared" / "contribsync", "contribsync")
HANDLERS = {f"functions.{path.parent.name}.app": path for path in sorted((ROOT / "functions").glob("*/app.py"))}


def test_the_layer_and_the_handlers_are_found():
    assert {"contribsync.clients", "contribsync.db.connection", "contribsync.runtime.attempt"} <= set(LAYER)
    assert len(HANDLERS) >= 20


@pytest.mark.parametrize("module", sorted({**LAYER, **HANDLERS}))
def test_deployed_code_imports_nothing_that_is_not_deployed(module):
    path = {**LAYER, **HANDLERS}[module]
    found = [f"{imp.module} (line {imp.line})" for imp in imports(path, module)
             if imp.module.split(".")[0] in NOT_DEPLOYED]
    assert found == []


def test_the_check_sees_a_lazy_import(tmp_path):
    # GIVEN a layer module that imports operator code inside a function
    source = tmp_path / "lazy.py"
    source.write_text("def f():\n    from contribsync_ops.gaps import find_gaps\n    return find_gaps\n")
    # THEN the import is seen
    assert [imp.module for imp in imports(source, "contribsync.lazy")] == ["contribsync_ops.gaps"]
