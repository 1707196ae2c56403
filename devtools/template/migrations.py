"""The deploy that migrates itself: the MigrateDatabase function and the ``Custom::DatabaseMigrations``
resource that CloudFormation sends to it on every deploy that changes the migrations or the layer.

The resource's ``MigrationsHash`` is the digest of ``contribsync/db/migrations/`` (names and texts) and its
``Layer`` the layer version's ARN: a new migration changes the first, new layer code the second, so the
update reaches the function, which applies what is missing (``contribsync.deploy_migrations``). Every
other function and event source mapping ``DependsOn`` the resource, so nothing consumes before the schema
is there, and a failed migration fails the deploy with its message. ``ServiceTimeout`` bounds
CloudFormation's wait a little past the function's own timeout, should the function never answer.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import Any

from devtools.template.intrinsics import arn, ref

MIGRATIONS_RESOURCE = "DatabaseMigrations"
MIGRATE_FUNCTION = "MigrateDatabase"
MIGRATE_TIMEOUT_S = 900  # Lambda's maximum: a first migration of a large contributor.info database
SERVICE_TIMEOUT_S = MIGRATE_TIMEOUT_S + 60


def migrations_hash() -> str:
    """sha256 over the migration files' names and texts, in the order they apply."""
    folder = resources.files("contribsync").joinpath("db", "migrations")
    digest = hashlib.sha256()
    for entry in sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name):
        digest.update(entry.name.encode() + b"\0" + entry.read_bytes() + b"\0")
    return digest.hexdigest()


def migration_resources(parameters_read: dict[str, Any]) -> dict[str, Any]:
    """The function (it reads only the database URL) and the custom resource that invokes it."""
    return {
        f"{MIGRATE_FUNCTION}Function": {"Type": "AWS::Serverless::Function", "Properties": {
            "CodeUri": "functions/migrate_database/", "Handler": "app.lambda_handler",
            "Timeout": MIGRATE_TIMEOUT_S,
            "Description": "Applies the database migrations for CloudFormation (Custom::DatabaseMigrations)",
            "Policies": [parameters_read]}},
        MIGRATIONS_RESOURCE: {"Type": "Custom::DatabaseMigrations", "Properties": {
            "ServiceToken": arn(f"{MIGRATE_FUNCTION}Function"),
            "ServiceTimeout": SERVICE_TIMEOUT_S,
            "MigrationsHash": migrations_hash(),
            "Layer": ref("SharedLayer")}},
    }


__all__ = ["MIGRATE_FUNCTION", "MIGRATIONS_RESOURCE", "migration_resources", "migrations_hash"]
