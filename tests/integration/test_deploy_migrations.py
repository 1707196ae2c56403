"""The deploy that migrates itself: CloudFormation's requests to the MigrateDatabase handler, on the real
embedded Postgres, answered through a ResponseURL served on 127.0.0.1 (a stand-in for S3's pre-signed URL).
"""

from __future__ import annotations

import importlib.util
import json
import uuid
from pathlib import Path

import pytest

from contribsync import Clients, DatabaseMigrations, Settings
from contribsync.db import Database
from contribsync.deploy_migrations import RESPONSE_LIMIT_BYTES, fit_reason
from contribsync.errors import StoreError
from contribsync_local import postgres
from contribsync_local.poller import LambdaContext

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = json.loads((ROOT / "events" / "migrate_database.json").read_text())
MIGRATIONS = sorted(p.name for p in (ROOT / "shared" / "contribsync" / "db" / "migrations").glob("*.sql"))
LOCK_KEY = 0x636F6E7472696273  # contribsync.db.migrate's advisory lock


@pytest.fixture
def empty_database(pg_admin_dsn):
    name = f"contribsync_deploy_{uuid.uuid4().hex[:8]}"
    dsn = postgres.create_database(pg_admin_dsn, name, drop_first=True)
    yield dsn
    postgres.drop_database(pg_admin_dsn, name)


def request(listener, kind: str = "Create") -> dict:
    event = {**SAMPLE, "RequestType": kind, "ResponseURL": listener.url}
    if kind != "Create":
        event["PhysicalResourceId"] = "DatabaseMigrations-contribsync"
    return event


def load_handler(dsn: str, monkeypatch):
    """functions/migrate_database/app.py as Lambda imports it, its settings read from the environment."""
    monkeypatch.setenv("DATABASE_URL", dsn)
    spec = importlib.util.spec_from_file_location(f"migrate_{uuid.uuid4().hex}", ROOT / "functions" /
                                                  "migrate_database" / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_create_applies_every_migration_and_answers_success(empty_database, response_listener, monkeypatch):
    # GIVEN an empty database and the handler as deployed
    handler = load_handler(empty_database, monkeypatch)
    # WHEN CloudFormation creates the resource
    result = handler.lambda_handler(request(response_listener), LambdaContext("MigrateDatabase", 900))
    handler.DATABASE_MIGRATIONS.clients.close()
    # THEN the schema is there, and CloudFormation was told so at its URL, with its own ids
    db = Database(empty_database)
    applied = [r["name"] for r in db.connection().execute("SELECT name FROM schema_migrations ORDER BY version")]
    db.close()
    assert applied == MIGRATIONS
    [answer] = response_listener.bodies
    assert answer == result
    assert answer["Status"] == "SUCCESS"
    assert answer["Data"] == {"Applied": str(len(MIGRATIONS)), "Last": MIGRATIONS[-1]}
    assert (answer["StackId"], answer["RequestId"], answer["LogicalResourceId"]) == (
        SAMPLE["StackId"], SAMPLE["RequestId"], "DatabaseMigrations")
    assert answer["PhysicalResourceId"] == "DatabaseMigrations-contribsync"
    # the URL was signed without a content type, so none is sent
    assert response_listener.headers[0].get("Content-Type", "") == ""


def migrations(dsn: str, **kwargs) -> DatabaseMigrations:
    return DatabaseMigrations(Clients(Settings(database_url=dsn)), **kwargs)


def test_an_update_on_a_current_schema_applies_nothing(pg_dsn, response_listener):
    handler = migrations(pg_dsn)
    answer = handler.handle(request(response_listener, "Update"), LambdaContext("MigrateDatabase", 900))
    handler.clients.close()
    assert answer["Status"] == "SUCCESS" and answer["Data"]["Applied"] == "0"
    assert answer["PhysicalResourceId"] == "DatabaseMigrations-contribsync"  # unchanged: no replacement


def test_a_failing_migration_answers_failed_with_its_message(empty_database, response_listener):
    # GIVEN a database where a migration was applied with other text than the layer's
    db = Database(empty_database)
    db.connection().execute("CREATE TABLE schema_migrations (version text PRIMARY KEY, name text NOT NULL,"
                            " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
    db.connection().execute("INSERT INTO schema_migrations VALUES ('0001', %s, 'edited')", (MIGRATIONS[1],))
    db.close()
    # WHEN CloudFormation updates the resource
    handler = migrations(empty_database)
    handler.handle(request(response_listener, "Update"), LambdaContext("MigrateDatabase", 900))
    handler.clients.close()
    # THEN the deploy fails with the migration's message
    [answer] = response_listener.bodies
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == (f"database migrations failed: StoreError: migration {MIGRATIONS[1]} changed "
                                "after it was applied; add a new migration")


def test_a_migration_that_outlasts_the_function_is_cancelled_and_answered_in_time(pg_dsn, response_listener):
    # GIVEN another session holding the migrations' lock, and an invocation with 3 s left past the margin
    holder = Database(pg_dsn)
    holder.connection().execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    try:
        handler = migrations(pg_dsn, margin_s=2)
        context = LambdaContext("MigrateDatabase", 5)
        # WHEN CloudFormation updates the resource
        handler.handle(request(response_listener, "Update"), context)
        # THEN the wait was cancelled and FAILED answered before the function's timeout
        assert context.get_remaining_time_in_millis() > 0
        [answer] = response_listener.bodies
        assert answer["Status"] == "FAILED"
        assert "did not finish in 3 s" in answer["Reason"]
        handler.clients.close()
    finally:
        holder.connection().execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
        holder.close()


def test_delete_answers_success_without_the_database(response_listener):
    # no database at this address: a stack whose database is gone can still be deleted
    handler = migrations("postgresql://nobody@127.0.0.1:1/none")
    answer = handler.handle(request(response_listener, "Delete"), LambdaContext("MigrateDatabase", 900))
    assert answer["Status"] == "SUCCESS"
    assert response_listener.bodies == [answer]


def test_settings_that_cannot_be_read_answer_failed(response_listener, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    handler = DatabaseMigrations(Clients.from_env())
    answer = handler.handle(request(response_listener), LambdaContext("MigrateDatabase", 900))
    assert answer["Status"] == "FAILED" and "DATABASE_URL is not set" in answer["Reason"]


def test_an_unreachable_database_answers_failed(response_listener):
    handler = migrations("postgresql://nobody@127.0.0.1:1/none")
    answer = handler.handle(request(response_listener), LambdaContext("MigrateDatabase", 900))
    assert answer["Status"] == "FAILED" and "cannot connect to Postgres" in answer["Reason"]


def test_an_answer_that_cannot_be_sent_fails_the_invocation_so_lambda_retries(pg_dsn, response_listener):
    response_listener.status = 403  # e.g. the pre-signed URL expired
    handler = migrations(pg_dsn)
    with pytest.raises(Exception, match="403"):
        handler.handle(request(response_listener), LambdaContext("MigrateDatabase", 900))
    handler.clients.close()


def test_the_reason_shows_no_secret(pg_dsn, response_listener):
    secret = "Very-Secret-Webhook-1"  # a configured secret, and a DSN's password, in an error's message

    def apply(db):
        raise StoreError(f"could not apply 0031 ({secret}) on postgresql://app:Other-Password-2@db.example/x")

    handler = DatabaseMigrations(Clients(Settings(database_url=pg_dsn, webhook_secrets=(secret,))), apply=apply)
    answer = handler.handle(request(response_listener), LambdaContext("MigrateDatabase", 900))
    handler.clients.close()
    assert answer["Status"] == "FAILED" and "could not apply 0031" in answer["Reason"]
    assert secret not in json.dumps(response_listener.bodies)
    assert "Other-Password-2" not in json.dumps(response_listener.bodies)


def test_a_long_reason_is_cut_to_cloudformations_limit():
    body = {"Status": "FAILED", "Reason": "é\"" * 5000, "StackId": "s", "RequestId": "r"}
    encoded = fit_reason(body)
    assert len(encoded) <= RESPONSE_LIMIT_BYTES
    assert json.loads(encoded)["Reason"].endswith("...")
    assert len(encoded) > RESPONSE_LIMIT_BYTES - 20  # cut to the limit, not far below it
