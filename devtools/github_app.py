"""What a GitHub App for contribsync must subscribe to and be allowed, derived from the code.

- Events: every GitHub event type some function handles (``webhook_receiver.handled_events()``, from the
  catalog's ``webhook/<type>`` names), less the two GitHub sends every App unasked.
- Permissions: each webhook event, GraphQL document (``shared/contribsync/graphql/``) and REST endpoint the
  layer calls needs one, declared below with why. ``problems()`` compares these declarations with the
  code: a new event, document or endpoint without a permission, or a declaration the code no longer uses,
  is listed, and ``devtools.gen_deploy_doc --check`` (and its test) fail on it.

The permissions are GitHub's names for a GitHub App (repository permissions, and the organization's
"Members"), as GitHub's webhook and REST documentation states for each event and endpoint.
"""

from __future__ import annotations

import re
from pathlib import Path

from contribsync.webhook_receiver import handled_events

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "shared" / "contribsync"

# Sent to every GitHub App whatever it subscribes to.
ALWAYS_SENT = frozenset({"installation", "installation_repositories"})

METADATA, PULLS, ISSUES, DISCUSSIONS = "Metadata", "Pull requests", "Issues", "Discussions"
CONTENTS, HOOKS, MEMBERS = "Contents", "Webhooks", "Members (organization)"

EVENT_PERMISSION = {
    "pull_request": PULLS, "pull_request_review": PULLS, "pull_request_review_comment": PULLS,
    "pull_request_review_thread": PULLS, "issues": ISSUES, "issue_comment": ISSUES,
    "discussion": DISCUSSIONS, "discussion_comment": DISCUSSIONS, "repository": METADATA, "star": METADATA,
    "public": METADATA, "push": CONTENTS, "member": MEMBERS,
}

DOCUMENT_PERMISSION = {
    "repository": (METADATA,), "recent_pull_requests": (PULLS,), "pull_requests_page": (PULLS,),
    "pull_request_details": (PULLS,), "issues_page": (ISSUES,), "discussions_page": (DISCUSSIONS,),
    "backfill_counts": (PULLS, ISSUES, DISCUSSIONS), "contributor_profiles": (), "rate_limit": (),
}

# REST paths as the layer writes them (placeholders as ``{}``), as regular expressions, with what they need.
ENDPOINT_PERMISSION = {
    r"/repos/{}/pulls/{}(/reviews|/comments)?": ("pull requests, reviews, review comments", PULLS),
    r"/repos/{}/issues/{}": ("issues and their comments (``{base}/comments``)", ISSUES),
    r"/repos/{}": ("the base of ``pulls/{n}/comments`` and ``issues/{n}/comments`` (a PR's conversation)", ISSUES),
    r"/repos/{}/events": ("a repository's events (stars, forks)", METADATA),
    r"/repos/{}/hooks(/{}/deliveries)?": ("a repository webhook's delivery log (and redelivery)", HOOKS),
    r"/app/hook/deliveries": ("the App's own delivery log (the App's JWT: no permission)", None),
    r"/app/installations(/{}/access_tokens)?": ("installation tokens (the App's JWT: no permission)", None),
    r"/repos/{}/{}/installation": ("the installation on a repository's owner (the App's JWT: no permission)",
                                   None),
}

WHY = {
    METADATA: ("read", "mandatory for every App: repository metadata (`repository.graphql`), stars and forks "
               "(`/repos/{repo}/events`), and the `repository`, `star` and `public` deliveries"),
    PULLS: ("read", "pull requests, reviews and their comments (GraphQL pages and details, REST lists), and "
            "the `pull_request*` deliveries"),
    ISSUES: ("read", "issues and conversation comments (GraphQL pages, REST comments), and the `issues` and "
             "`issue_comment` deliveries"),
    DISCUSSIONS: ("read", "discussions and their comments (`discussions_page.graphql`), and the `discussion*` "
                  "deliveries"),
    CONTENTS: ("read", "only to receive `push` deliveries (a repository's pushed time); no file is read"),
    HOOKS: ("read and write", "only when `WebhookHooks` names repository webhooks (`owner/repo:hook_id`): the "
            "reconciler reads their delivery logs and asks GitHub to redeliver (POST .../attempts). The App's "
            "own webhook (`app`) is read with the App's JWT and needs no permission"),
    MEMBERS: ("read", "only to receive `member` deliveries (collaborators added to a repository)"),
}


def subscribed_events() -> list[str]:
    return sorted(handled_events() - ALWAYS_SENT)


def permissions() -> list[tuple[str, str, str, list[str]]]:
    """(permission, access, why, events it unlocks) in the order of ``WHY``."""
    used = set(EVENT_PERMISSION.values()) | {p for ps in DOCUMENT_PERMISSION.values() for p in ps} | {
        p for _, p in ENDPOINT_PERMISSION.values() if p}
    return [(name, access, why, sorted(e for e, p in EVENT_PERMISSION.items() if p == name))
            for name, (access, why) in WHY.items() if name in used]


def _layer_paths() -> set[str]:
    """The REST paths written in the layer's source: double-quoted literals starting ``/repos/`` or
    ``/app/<name>``, placeholders as ``{}``."""
    text = "\n".join(p.read_text() for p in LAYER.rglob("*.py"))
    return {re.sub(r"{[^}]*}", "{}", path) for path in re.findall(r'f?"(/(?:repos|app)/[a-z{][^"]*)"', text)}


def problems() -> list[str]:
    """What the declarations above and the code disagree on (empty when they agree)."""
    found: list[str] = []
    events = set(handled_events()) - ALWAYS_SENT
    declared = set(EVENT_PERMISSION)
    found += [f"webhook event {e!r} has no permission in EVENT_PERMISSION" for e in sorted(events - declared)]
    found += [f"EVENT_PERMISSION names {e!r}, which no function handles" for e in sorted(declared - events)]
    documents = {p.stem for p in (LAYER / "graphql").glob("*.graphql") if not p.stem.startswith("_")}
    found += [f"GraphQL document {d!r} has no permission" for d in sorted(documents - set(DOCUMENT_PERMISSION))]
    found += [f"DOCUMENT_PERMISSION names {d!r}, which no file holds"
              for d in sorted(set(DOCUMENT_PERMISSION) - documents)]
    paths = _layer_paths()
    patterns = [re.compile(pattern) for pattern in ENDPOINT_PERMISSION]  # ``{}`` is literal in a Python regex
    found += [f"REST path {p!r} has no permission in ENDPOINT_PERMISSION" for p in sorted(paths)
              if not any(rx.fullmatch(p) for rx in patterns)]
    found += [f"ENDPOINT_PERMISSION names {rx.pattern!r}, which the layer no longer calls" for rx in patterns
              if not any(rx.fullmatch(p) for p in paths)]
    return found


__all__ = ["ALWAYS_SENT", "permissions", "problems", "subscribed_events"]
