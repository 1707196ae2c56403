"""The canary test: every secret set to a value found nowhere else goes through a full local run (a signed
webhook, events posted with the key to ``/e/<key>``, GitHub and OpenAI calls, a function that fails with the
secrets in its message, dashboard pages), then every captured log line, page, file under the stack's
``.local/`` and stored text in the database is searched for them, as they are and as they are commonly
encoded. None is found.

The database password: the embedded Postgres uses trust authentication on its unix socket (pgserver's
``pg_hba.conf``), so it accepts any password without checking it. The canary is put in ``DATABASE_URL``
all the same, where every connection of the run sends it.

The App private key: the simulator has no App token exchange, and the stack takes ``GITHUB_APP_ID`` and
``GITHUB_APP_PRIVATE_KEY`` out of the environment when it runs on the simulator. The key (a generated RSA
key, as auth.py signs with) is set again once the stack is up, before any handler reads its settings, so
every function holds it as a configured secret; without ``GITHUB_APP_ID`` the functions still use the token.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import uuid
from urllib.parse import quote

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from contribsync.errors import NonRetriable
from contribsync.observability import logger
from contribsync_local import faults
from contribsync_local.http import ACCESS_LOG_FILE
from contribsync_local.openai_fake import FakeOpenAI
from contribsync_local.stack import ROOT, LocalStack
from contribsync_sim.changes import WebhookSender
from contribsync_sim.dataset import generate
from contribsync_sim.simulator import Simulator

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex
CANARIES = {
    "webhook secret": f"c4n4ry-hook-{TAG}",
    "event key": f"c4n4ry-event-key-{TAG}-long-and-private",
    "GitHub token": f"c4n4ry-token-{TAG}",  # no ghp_ shape: only the configured value can mask it
    "OpenAI key": f"c4n4ry-openai-{TAG}",
    "database password": f"c4n4ry/pw+{TAG}!",
}
PRIVATE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def encodings(value: str) -> set[str]:
    """A value as it is, URL-encoded (the password in ``DATABASE_URL``), JSON-escaped and in base64."""
    return {value, quote(value, safe=""), quote(value), json.dumps(value)[1:-1],
            base64.b64encode(value.encode()).decode().rstrip("=")}


NEEDLES = {(name, form) for name, value in CANARIES.items() for form in encodings(value)} | {
    ("App private key", line) for line in PRIVATE_KEY.splitlines() if "-----" not in line and len(line) >= 16}


def found_in(text: str) -> list[str]:
    return sorted({name for name, form in NEEDLES if form in text})


def with_password(dsn: str, password: str) -> str:
    user, _, rest = dsn.partition(":@")  # pgserver's DSN: postgresql://postgres:@/db?host=...
    assert rest, dsn
    return f"{user}:{quote(password, safe='')}@{rest}"


def local_files() -> dict[str, str]:
    """Every file under the stack's .local/ but the Postgres data files (the database is searched through SQL)."""
    files = {}
    for path in (ROOT / ".local").rglob("*"):
        relative = path.relative_to(ROOT / ".local")
        if not path.is_file() or (relative.parts[0] == "pg" and relative.parts[1:2] != ("log",)):
            continue
        files[str(relative)] = path.read_bytes().decode("utf-8", "replace")
    return files


def stored_texts(db) -> dict[str, str]:
    """Every row of every table of the run's database, as Postgres writes the row as text."""
    conn = db.connection()
    tables = [r["table_name"] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        " AND table_type = 'BASE TABLE'").fetchall()]
    texts = {}
    for table in tables:
        rows = conn.execute(f'SELECT t::text AS row FROM public."{table}" t').fetchall()
        texts[table] = "\n".join(r["row"] for r in rows)
    return texts


@pytest.fixture
def powertools():
    """The layer's Powertools log lines (its handler's stream was made at import: capfd does not see it)."""
    lines = io.StringIO()
    previous = logger.registered_handler.setStream(lines)
    yield lines
    logger.registered_handler.setStream(previous)


def test_no_secret_appears_in_any_log_page_file_or_stored_text(isolated_database, aws_endpoint, capfd, caplog,
                                                               monkeypatch, powertools):
    caplog.set_level(logging.INFO)
    log_start = ACCESS_LOG_FILE.stat().st_size if ACCESS_LOG_FILE.exists() else 0
    simulator = Simulator(dataset=generate(3, repos=1, prs_per_repo=15))
    repo = next(iter(simulator.ds.repos.values()))
    openai = FakeOpenAI()
    environment = {"CONTRIBSYNC_EVENT_KEYS": CANARIES["event key"], "GITHUB_WEBHOOK_SECRET": CANARIES["webhook secret"],
                   "OPENAI_API_KEY": CANARIES["OpenAI key"], "OPENAI_BASE_URL": openai.start()}
    pages: dict[str, str] = {}
    try:
        with LocalStack(database_url=with_password(isolated_database(), CANARIES["database password"]), port=0,
                        prefix=f"cy{TAG[:6]}", cron=False, retry_base_s=1, aws_endpoint=aws_endpoint, github="sim",
                        simulator=simulator, github_token=CANARIES["GitHub token"], access_log="file",
                        environment=environment) as stack:
            url, key = stack.http.url, CANARIES["event key"]
            monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY", PRIVATE_KEY)  # see the module's docstring
            # a function that fails with every secret in its message, as a library's error might quote them
            leak = " ".join([*CANARIES.values(), PRIVATE_KEY])
            fault = faults.inject(stack.handlers["ClassifySingleRepository"].RUNTIME,
                                  lambda ctx: (_ for _ in ()).throw(NonRetriable(f"refused: {leak}")))
            # WHEN GitHub delivers a signed webhook, and events are posted with the key
            deliveries = simulator.feed(CANARIES["webhook secret"], seed=4).step("open_pr")
            sender = WebhookSender(f"{url}/webhook")
            sender.send(deliveries)
            assert sender.result.statuses == {202: len(deliveries)}
            sent = httpx.post(f"{url}/e/{key}", json=[
                {"name": "capture/repository.sync", "data": dict(zip(("owner", "repo"), repo.full_name.split("/"),
                                                                     strict=True))},
                {"name": "classify/single-repository", "data": {"repositoryId": str(uuid.uuid4())}},
            ])
            assert sent.status_code == 200, sent.text
            assert httpx.post(f"{url}/e/not-{key}", json={"name": "x"}).status_code == 401
            assert stack.wait_idle(40)
            embedded = httpx.post(f"{url}/e/{key}", json={"name": "embeddings/process.workspace", "data": {}})
            assert embedded.status_code == 200
            assert stack.wait_idle(30)
            fault.remove()
            # THEN the run happened: GitHub and OpenAI were called with the secrets, the function failed
            assert openai.received, "nothing reached the OpenAI fake"
            settings = stack.handlers["ClassifySingleRepository"].RUNTIME.clients.settings
            assert settings.github_app_private_key == PRIVATE_KEY
            assert settings.database_url.split("@")[0].endswith(quote(CANARIES["database password"], safe=""))
            runs = stack.db.connection().execute(
                "SELECT status, count(*) AS n FROM function_runs GROUP BY status").fetchall()
            assert {r["status"] for r in runs} >= {"completed", "failed"}, runs
            # and the dashboard's pages, with every page they link to
            pages["/"] = httpx.get(f"{url}/").text
            for link in sorted(set(re.findall(r'href="(/(?:functions|runs)/[^"]+)"', pages["/"])))[:40]:
                pages[link] = httpx.get(f"{url}{link.replace('&amp;', '&')}").text
            assert any(link.startswith("/runs/") for link in pages), "no failed run on the dashboard"
            stored = stored_texts(stack.db)
            files = local_files()
    finally:
        openai.stop()
    out, err = capfd.readouterr()
    # every record but httpx's lines for this test's own posts to /e/<key> (the sender knows its key)
    records = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records
                        if not (r.name == "httpx" and f"{url}/e/" in r.getMessage()))
    access = ACCESS_LOG_FILE.read_text()[log_start:] if ACCESS_LOG_FILE.exists() else ""
    searched = {"stdout": out, "stderr": err, "Powertools lines": powertools.getvalue(), "logging records": records,
                "access log": access, **{f"dashboard page {path}": text for path, text in pages.items()},
                **{f".local/{path}": text for path, text in files.items()},
                **{f"table {table}": text for table, text in stored.items()}}
    assert {where: found_in(text) for where, text in searched.items() if found_in(text)} == {}
    assert "***" in stored["function_runs"]  # the failure was kept, masked
    assert access.count(" /e/***") >= 3  # the posts were logged, with the key masked
    assert '"message":"run failed, not retriable"' in powertools.getvalue()  # the failure was logged, masked
