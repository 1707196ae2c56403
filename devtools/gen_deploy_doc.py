"""Writes the generated parts of docs/DEPLOY.md: the template's parameters, where each secret goes, the
GitHub App's events and permissions, and the monthly cost estimate.

Each part sits between ``<!-- BEGIN GENERATED name -->`` and ``<!-- END GENERATED name -->``; the prose
around them is written by hand. ``python -m devtools.gen_deploy_doc`` rewrites the parts from
``template.yaml``, the catalog and the layer's code (``devtools.github_app``), and
``devtools.cost_estimate``; ``--check`` fails when the doc is stale (``make lint`` runs it, and
``tests/unit/test_deploy_doc.py``), or when the App's declared permissions and the code disagree.
"""

from __future__ import annotations

import argparse
import re
import sys
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from devtools import cost_estimate, github_app

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "DEPLOY.md"
TEMPLATE = ROOT / "template.yaml"

STORES = {"_PARAMETER": "SSM Parameter Store, SecureString", "_SECRET": "Secrets Manager"}
# What to put in each secret (the CLI commands' placeholders).
VALUE_HINTS = {
    "DATABASE_URL": "postgresql://USER:PASSWORD@HOST:5432/postgres?sslmode=require",
    "CONTRIBSYNC_EVENT_KEYS": "$(openssl rand -hex 24)",
    "GITHUB_WEBHOOK_SECRET": "$(openssl rand -hex 32)",
    "GITHUB_TOKEN": "github_pat_...",
    "GITHUB_APP_PRIVATE_KEY": "file://contribsync-app.private-key.pem",
    "OPENAI_API_KEY": "sk-...",
}


# What a template Condition means, for the secrets table.
CONDITION_TEXT = {"UseGitHubApp": "`GitHubAppId` is set"}


def _template() -> dict[str, Any]:
    template: dict[str, Any] = yaml.safe_load(TEMPLATE.read_text())
    return template


def _cell(value: object) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")


def parameters_table(template: dict[str, Any]) -> str:
    rows = ["| parameter | type | default | allowed | what it sets |", "|---|---|---|---|---|"]
    for name, spec in template.get("Parameters", {}).items():
        limits = [", ".join(str(v) for v in spec.get("AllowedValues", []))]
        limits += [f"{key} {spec[key]}" for key in ("MinValue", "MaxValue", "AllowedPattern") if key in spec]
        default = spec.get("Default")
        shown = "(required)" if default is None else "(empty)" if default == "" else f"`{_cell(default)}`"
        rows.append(f"| `{name}` | {spec.get('Type', '')} | {shown} | {_cell('; '.join(x for x in limits if x))} "
                    f"| {_cell(spec.get('Description', ''))} |")
    return "\n".join(rows)


def secret_locations(template: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(setting, store, template parameter, its default name) for every environment variable that names
    where a secret is (``<NAME>_PARAMETER`` / ``<NAME>_SECRET``: ``contribsync.settings``)."""
    parameters = template.get("Parameters", {})
    variables: dict[str, Any] = dict(template.get("Globals", {}).get("Function", {}).get("Environment", {})
                                     .get("Variables", {}))
    for resource in template.get("Resources", {}).values():
        env = (resource.get("Properties") or {}).get("Environment") or {}
        variables.update(env.get("Variables") or {})
    found = []
    for variable, value in sorted(variables.items()):
        suffix = next((s for s in STORES if variable.endswith(s)), None)
        ref, condition = _referenced(value)
        if suffix and ref in parameters:
            default = str(parameters[ref].get("Default", ""))
            found.append((variable.removesuffix(suffix), STORES[suffix] + condition, ref, default))
    return found


def _referenced(value: object) -> tuple[str, str]:
    """The parameter a variable's value names, and when: a ``Ref``, or a ``Fn::If`` with a ``Ref`` in one
    branch (``AWS::NoValue`` in the other)."""
    if not isinstance(value, dict):
        return "", ""
    if "Ref" in value:
        return str(value["Ref"]), ""
    condition, then, otherwise = value.get("Fn::If") or ("", None, None)
    if isinstance(then, dict) and "Ref" in then and not str(then["Ref"]).startswith("AWS::"):
        return str(then["Ref"]), f" (when {CONDITION_TEXT.get(condition, condition)})"
    if isinstance(otherwise, dict) and "Ref" in otherwise:
        return str(otherwise["Ref"]), f" (unless {CONDITION_TEXT.get(condition, condition)})"
    return "", ""


def secrets_section(template: dict[str, Any]) -> str:
    locations = secret_locations(template)
    rows = ["| setting | stored in | template parameter | default name |", "|---|---|---|---|"]
    rows += [f"| `{setting}` | {store} | `{parameter}` | `{default}` |"
             for setting, store, parameter, default in locations]
    commands = []
    for setting, store, _, default in locations:
        hint = VALUE_HINTS.get(setting, "VALUE")
        value = hint if hint.startswith(("$(", "file://")) else f"'{hint}'"
        if store.startswith("SSM Parameter Store"):
            commands.append(f"aws ssm put-parameter --type SecureString --name {default} --value {value}")
        else:
            commands.append(f"aws secretsmanager create-secret --name {default} --secret-string {value}")
    return "\n".join([*rows, "", "```bash", *commands, "```"])


def github_app_section() -> str:
    events = github_app.subscribed_events()
    rows = ["| permission | access | why |", "|---|---|---|"]
    rows += [f"| {name} | {access} | {_cell(why)} |" for name, access, why, _ in github_app.permissions()]
    always = ", ".join(f"`{e}`" for e in sorted(github_app.ALWAYS_SENT))
    return "\n".join([
        f"Subscribe to these {len(events)} events (the ones some function handles; {always} come to every App "
        "unasked, and are handled too):", "",
        ", ".join(f"`{e}`" for e in events), "", *rows])


def blocks() -> dict[str, str]:
    template = _template()
    return {"parameters": parameters_table(template), "secrets": secrets_section(template),
            "github-app": github_app_section(), "cost": cost_estimate.table()}


def _filled(match: re.Match[str], body: str) -> str:
    return f"{match.group(1)}{body}\n{match.group(2)}"


def render(text: str, parts: dict[str, str]) -> str:
    """``text`` with each generated part replaced; a part without its markers is an error."""
    for name, body in parts.items():
        marker = re.escape(name)
        pattern = re.compile(rf"(<!-- BEGIN GENERATED {marker} [^>]*-->\n).*?(<!-- END GENERATED {marker} -->)",
                             re.DOTALL)
        if not pattern.search(text):
            raise SystemExit(f"{DOC.relative_to(ROOT)}: no markers for the generated part {name!r}")
        text = pattern.sub(partial(_filled, body=body), text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/DEPLOY.md is not what this writes")
    args = parser.parse_args(argv)
    if problems := github_app.problems():
        print("devtools/github_app.py and the code disagree:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    current = DOC.read_text()
    wanted = render(current, blocks())
    if args.check:
        if wanted != current:
            print(f"{DOC.relative_to(ROOT)} is stale: run `python -m devtools.gen_deploy_doc`", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
