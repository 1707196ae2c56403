"""MigrateDatabase: applies the database migrations when CloudFormation creates or updates the stack.

Wiring only: the `Custom::DatabaseMigrations` request goes to `contribsync.DatabaseMigrations`, built once
per container with the container's clients (read from the environment when the first request arrives),
which answers CloudFormation through the request's ResponseURL.
"""

from __future__ import annotations

from contribsync import Clients, DatabaseMigrations, lambda_entry

DATABASE_MIGRATIONS = DatabaseMigrations(Clients.from_env(application_name="contribsync-migrations"))
lambda_handler = lambda_entry(DATABASE_MIGRATIONS.handle, function="MigrateDatabase")
