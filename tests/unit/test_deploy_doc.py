"""docs/DEPLOY.md's generated parts follow template.yaml, the catalog and the code; the cost estimate is
a calculation that adds up."""

from __future__ import annotations

import copy

import pytest
import yaml

from devtools import cost_estimate, gen_deploy_doc, github_app


def test_the_committed_doc_is_what_the_generator_writes():
    current = gen_deploy_doc.DOC.read_text()
    assert gen_deploy_doc.render(current, gen_deploy_doc.blocks()) == current, (
        "docs/DEPLOY.md is stale: run `python -m devtools.gen_deploy_doc`")
    assert gen_deploy_doc.main(["--check"]) == 0


def test_every_template_parameter_is_in_the_doc():
    template = yaml.safe_load(gen_deploy_doc.TEMPLATE.read_text())
    doc = gen_deploy_doc.DOC.read_text()
    for name in template["Parameters"]:
        assert f"| `{name}` |" in doc


def test_a_parameter_added_to_the_template_makes_the_doc_stale():
    # GIVEN the template with one more parameter, as another change adds them
    template = yaml.safe_load(gen_deploy_doc.TEMPLATE.read_text())
    grown = copy.deepcopy(template)
    grown["Parameters"]["ReceiverReservedConcurrency"] = {
        "Type": "Number", "Default": 10, "MinValue": 1, "Description": "Reserved concurrency of WebhookReceiver"}
    # WHEN the table is generated from it
    table = gen_deploy_doc.parameters_table(grown)
    # THEN the committed doc no longer matches, and the new row says what the template says
    current = gen_deploy_doc.DOC.read_text()
    assert gen_deploy_doc.render(current, {"parameters": table}) != current
    row = "| `ReceiverReservedConcurrency` | Number | `10` | MinValue 1 | Reserved concurrency of WebhookReceiver |"
    assert row in table


def test_each_secret_is_where_the_settings_read_it():
    template = yaml.safe_load(gen_deploy_doc.TEMPLATE.read_text())
    stores = {setting: (store, parameter) for setting, store, parameter, _ in gen_deploy_doc.secret_locations(template)}
    assert stores["DATABASE_URL"] == ("SSM Parameter Store, SecureString", "DatabaseUrlParameter")
    assert stores["GITHUB_WEBHOOK_SECRET"] == ("Secrets Manager", "WebhookSecretSecret")
    section = gen_deploy_doc.secrets_section(template)
    assert "aws ssm put-parameter --type SecureString --name /contribsync/database-url" in section
    assert "aws secretsmanager create-secret --name contribsync/github-webhook-secret" in section


def test_the_app_subscribes_to_every_handled_event_and_its_permissions_match_the_code():
    assert github_app.problems() == []
    events = set(github_app.subscribed_events())
    assert {"pull_request", "issues", "discussion", "repository", "push", "member"} <= events
    assert not events & github_app.ALWAYS_SENT
    assert {name for name, *_ in github_app.permissions()} >= {"Metadata", "Pull requests", "Issues", "Discussions"}


def test_an_endpoint_the_code_calls_without_a_declared_permission_is_a_problem(monkeypatch):
    called = github_app._layer_paths()
    monkeypatch.setattr(github_app, "_layer_paths", lambda: {*called, "/repos/{}/collaborators"})
    assert "REST path '/repos/{}/collaborators' has no permission in ENDPOINT_PERMISSION" in github_app.problems()


def test_crons_fire_as_their_expressions_say():
    assert cost_estimate.fires_per_day("0 * * * *") == 24
    assert cost_estimate.fires_per_day("0 */12 * * *") == 2
    assert cost_estimate.fires_per_day("0 3 * * 0") == pytest.approx(1 / 7)


def test_the_estimate_adds_up_and_grows_with_the_repositories():
    small, large = cost_estimate.monthly(100), cost_estimate.monthly(1000)
    assert sum(c for _, c in large.values()) > sum(c for _, c in small.values())
    # 7 run metrics per function, $0.30 each a month, are part of the custom-metric line
    functions = cost_estimate.deployment().functions
    assert small["CloudWatch custom metrics (EMF)"][1] >= 7 * functions * 0.30
    gb_s = float(large["Lambda compute"][0].split()[0].replace(",", ""))
    assert large["Lambda compute"][1] == pytest.approx(gb_s * cost_estimate.LAMBDA_GB_SECOND_ARM, rel=1e-3)
