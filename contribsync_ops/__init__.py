"""Operator-only code, never deployed: what the ``contribsync`` command, the local dashboard, the demo and
the benchmarks run against a deployment, and that no Lambda function needs.

- ``contribsync_ops.operations``: replay, redrive, cancel and status (``contribsync replay`` ...);
- ``contribsync_ops.gaps``: progressive capture (``contribsync gaps`` and ``quick-fix``);
- ``contribsync_ops/sql/``: the statements only they read (backfill progress and verification, workspace
  reads, gaps, run lookups, embedding coverage), run with ``db.query(name, params, folder=OPS_SQL)`` and
  prepared against the migrated schema in the tests like the layer's own.

The layer (``shared/contribsync``) never imports this package (``tests/unit/test_layer_imports.py``).
"""

from contribsync.db import SqlFolder

OPS_SQL = SqlFolder("contribsync_ops")

__all__ = ["OPS_SQL"]
