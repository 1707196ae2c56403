"""Generate migration 0000 from contributor.info's schema: ``python -m devtools.gen_baseline [--check]``.

contribsync writes into contributor.info's tables, so an empty database starts from them: the tables its
jobs and frontend share with ours, as ``tests/fixtures/contributor-info/schema.sql`` (its 203 migrations
replayed, then ``pg_dump``) has them, with columns, types, enums, nullability, CHECKs, keys, the foreign-key
names its frontend uses as PostgREST hints, its unique indexes and the triggers that keep a row's own
timestamps.
contribsync's migrations then add their own tables and columns on top, so an empty database and a
contributor.info one end the same way.

Every statement is written to be a no-op where the object exists (``IF NOT EXISTS``, or a guard on the
catalog), so on contributor.info's database, and on one built by contribsync before this file existed,
0000 only adds what is missing. Written by hand because pg_dump has no "if not exists" output and no
library turns a dump into idempotent DDL; the dump's own format (a ``-- Name: x; Type: T`` header per
object) is all it needs to parse.

Left out on purpose, each said in the README: its non-unique indexes (26 on pull_requests alone, several
the same columns twice; with them a bulk upsert of 100,000 pull requests ran at 3,756 rows/s instead of
28,744: contribsync's migrations index what its reads need); objects of tables outside this set (users, billing, spam,
notifications ...), foreign keys to them (``workspaces.owner_id`` -> ``app_users``, ``responded_by`` ->
``auth.users``), the triggers that write to those tables, and contributor.info's row-level-security
policies, which call Supabase's ``auth`` functions (migration 0025 gives an empty database its own).
``workspaces.owner_id`` is nullable here: without ``app_users`` there is no owner to name.
``discussions.embedding`` is ``vector(384)`` here, as its code writes it (``RETYPED``).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "tests" / "fixtures" / "contributor-info" / "schema.sql"
TARGET = ROOT / "shared" / "contribsync" / "db" / "migrations" / "0000_contributor_info.sql"

# contributor.info's tables that contribsync's jobs read or write (the tables both schemas have).
TABLES = (
    "repositories", "contributors", "pull_requests", "reviews", "comments", "issues", "discussions",
    "discussion_comments", "github_events_cache", "sync_logs", "tracked_repositories", "workspaces",
    "workspace_repositories", "progressive_capture_jobs", "progressive_backfill_state", "backfill_chunks",
    "embedding_jobs", "similarity_cache",
)
# Functions the kept tables need: a column default and the triggers that only touch the row itself.
# Functions the kept tables need (a column default, the triggers that only touch the row itself), and the
# RPCs its frontend and jobs call that read only these tables.
FUNCTIONS = ("uuid_generate_v4", "update_last_updated_column", "update_updated_at_column",
             "update_progressive_backfill_updated_at", "update_tracked_repository_id",
             "calculate_assignee_distribution", "find_similar_issues", "find_similar_items_cross_entity",
             "get_workspace_repository_event_summaries", "generate_workspace_slug",
             "update_embedding_job_progress", "cleanup_expired_cache")
NULLABLE = {("workspaces", "owner_id")}
# discussions.embedding is vector(1536) there (the migration to 384 failed on dependent views) while its
# code and ours write 384 dimensions: an empty database gets the 384 that migration meant.
RETYPED = {("discussions", "embedding"): ("public.vector(1536)", "public.vector(384)")}

_HEADER = re.compile(r"^-- Name: (?P<name>.+?); Type: (?P<type>[A-Z ]+); Schema: (?P<schema>[^;]+);", re.M)


def objects(text: str) -> list[tuple[str, str, str]]:
    """(type, name, sql) of each object in a pg_dump, in dump order."""
    found = list(_HEADER.finditer(text))
    out = []
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        body = text[match.end():end].split("\n--\n", 1)[-1]
        body = "\n".join(line for line in body.splitlines() if line != "--").strip()
        body = re.sub(r"\n*SET default_(tablespace|table_access_method) = [^;]*;\n*", "\n", body).strip()
        out.append((match["type"], match["name"], body))
    return out


def _guard(check: str, statement: str) -> str:
    """A statement run only when ``check`` (a SELECT on the catalog) finds nothing."""
    return f"DO $contribsync$ BEGIN\n  IF NOT EXISTS ({check}) THEN\n    {statement}\n  END IF;\nEND $contribsync$;"


def _table(body: str, table: str) -> str:
    body = body.replace(f"CREATE TABLE public.{table} (", f"CREATE TABLE IF NOT EXISTS public.{table} (", 1)
    for t, column in NULLABLE:
        if t == table:
            body = re.sub(rf"(\n    {column} [^,\n]*?) NOT NULL", r"\1", body)
    for (t, column), (theirs, ours) in RETYPED.items():
        if t == table:
            body = body.replace(f"\n    {column} {theirs}", f"\n    {column} {ours}")
    return body


def _columns(body: str, table: str) -> list[str]:
    """Each column again as ADD COLUMN IF NOT EXISTS, without NOT NULL: a database where contribsync
    created the table before this file existed gains the columns it lacks (nullable, with their default)."""
    inner = body[body.index("(") + 1:body.index("\n)")]
    items, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(inner):
        quoted = quoted != (ch == "'")
        if not quoted:
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if ch == "," and depth == 0:
                items.append(inner[start:i])
                start = i + 1
    items.append(inner[start:])
    out = []
    for item in (" ".join(i.split()) for i in items):
        if item and not item.startswith("CONSTRAINT "):
            column = re.sub(r"(?<! IS) NOT NULL", "", item)
            out.append(f"ALTER TABLE public.{table} ADD COLUMN IF NOT EXISTS {column};")
    return out


def generate(text: str) -> str:
    kept = set(TABLES)
    views: list[str] = []
    parts: list[str] = []
    section: dict[str, list[str]] = {kind: [] for kind in ("TYPE", "FUNCTION", "TABLE", "COLUMN", "CONSTRAINT",
                                                           "FK CONSTRAINT", "INDEX", "TRIGGER", "VIEW")}
    for kind, name, body in objects(text):
        table = name.split()[0]
        if kind == "TYPE":
            section[kind].append(_guard(f"SELECT 1 FROM pg_type WHERE typname = '{name}'"
                                        " AND typnamespace = 'public'::regnamespace", body.replace("\n", "\n    ")))
        elif kind == "FUNCTION" and name.split("(")[0] in FUNCTIONS:
            section[kind].append(body.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
        elif kind == "TABLE" and table in kept:
            created = _table(body, table)
            section[kind].append(created)
            section["COLUMN"].extend(_columns(created, table))
        elif kind in ("CONSTRAINT", "FK CONSTRAINT") and table in kept:
            referenced = re.search(r"REFERENCES public\.(\w+)", body)
            if (referenced and referenced.group(1) not in kept) or "REFERENCES auth." in body:
                continue
            constraint = name.split()[1]
            section[kind].append(_guard(
                f"SELECT 1 FROM pg_constraint WHERE conname = '{constraint}' AND conrelid = 'public.{table}'::regclass",
                " ".join(body.split())))
        elif (kind == "INDEX" and body.startswith("CREATE UNIQUE INDEX ")
              and re.search(rf" ON (ONLY )?public\.({'|'.join(kept)}) ", body)):
            index = body.replace("CREATE UNIQUE INDEX ", "CREATE UNIQUE INDEX IF NOT EXISTS ", 1)
            section[kind].append(index.replace(" ON ONLY public.", " ON public.", 1))
        elif kind == "VIEW" and set(re.findall(r"public\.(\w+)", body)) - {name} <= kept | set(views):
            views.append(name)
            section[kind].append(_guard(f"SELECT 1 FROM pg_class WHERE relname = '{name}'"
                                        " AND relnamespace = 'public'::regnamespace",
                                        f"EXECUTE $view${body}$view$;"))
        elif kind == "TRIGGER" and table in kept:
            function = re.search(r"EXECUTE FUNCTION public\.(\w+)\(", body)
            if function and function.group(1) in FUNCTIONS:
                section[kind].append(body.replace("CREATE TRIGGER", "CREATE OR REPLACE TRIGGER", 1))
    parts.append("-- Generated by `python -m devtools.gen_baseline` from tests/fixtures/contributor-info/schema.sql\n"
                 "-- (contributor.info at babb1aa, MIT); do not edit: change the generator. See its docstring.\n"
                 "-- Every statement is a no-op where its object exists.")
    parts.append("CREATE EXTENSION IF NOT EXISTS vector;")
    for statements in section.values():
        parts.extend(statements)
    parts.append(
        "-- One month partition per write is not created ahead here: rows of a month with no partition of its\n"
        "-- own go to this default one (contributor.info creates the next month's partition by cron). Where\n"
        "-- contribsync created the table before this file existed, it is a plain table and stays one.\n"
        + _guard("SELECT 1 FROM pg_class p WHERE p.oid = 'public.github_events_cache'::regclass AND p.relkind <> 'p'"
                 " UNION ALL SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                 " WHERE i.inhparent = 'public.github_events_cache'::regclass"
                 " AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'",
                 "CREATE TABLE public.github_events_cache_default PARTITION OF public.github_events_cache DEFAULT;"))
    return "\n\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the migration differs from the schema")
    args = parser.parse_args(argv)
    text = generate(SCHEMA.read_text(encoding="utf-8"))
    if args.check:
        if TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET.relative_to(ROOT)} is stale: run python -m devtools.gen_baseline", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
