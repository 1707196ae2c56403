"""Deployability: template.yaml lints, builds without containers, and deploys only what Lambda runs.

``sam build`` runs once for the module, as a deploy would run it: no container, every dependency of the
layer resolved from PyPI for arm64 and the python3.11 runtime. Not ``--cached``: SAM records a
dependency folder as current even when the download that should have filled it failed, and the next
build then ships a layer without it. The IAM checks read the template after the SAM transform (run
with SAM CLI's own translator), so they see the roles CloudFormation would create, policy templates
expanded and managed policies attached.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
TEMPLATE = yaml.safe_load(TEMPLATE_PATH.read_text())
FUNCTIONS = sorted(k for k, v in TEMPLATE["Resources"].items() if v["Type"] == "AWS::Serverless::Function")
LAYER = "SharedLayer"

SAM = ROOT / ".venv-sam" / "bin" / "sam"
SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"
CFN_LINT = Path(sys.prefix) / "bin" / "cfn-lint"

MB = 1024 * 1024
LAYER_ZIP_LIMIT = 50 * MB  # the budget, and Lambda's limit for a zip uploaded directly
UNZIPPED_LIMIT = 250 * MB  # Lambda's limit for a function and all its layers, unzipped

# Our own code that never runs on Lambda, and test and lint tools by the names they import as. Every
# distribution requirements-dev.txt names (beside its `-r shared/requirements.txt`) is dev-only too.
DEV_ONLY_MODULES = {
    "contribsync_cli", "contribsync_local", "contribsync_ops", "contribsync_sim", "devtools", "tests", "bench",
    "moto", "pytest", "_pytest", "hypothesis", "pgserver", "playwright", "ruff", "mypy", "cfnlint", "samcli",
}

# The AWS managed policies a role may carry, each a statement on Resource "*" that cannot name its
# resources. Every policy written in the template, inline or from a SAM policy template, names them.
MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole":
        "logs:CreateLogGroup/CreateLogStream/PutLogEvents: SAM attaches it to every function role it makes, "
        "and a function's log group is named after the function, known only once it exists",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess":
        "Tracing: Active. X-Ray's PutTraceSegments, PutTelemetryRecords and sampling actions have no "
        "resource-level permissions, so AWS requires Resource '*'",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole":
        "VpcConfig (when SubnetIds is set): Lambda creates, describes and deletes the functions' network "
        "interfaces with the function's role, and EC2's network-interface actions take no resource ARN "
        "known before they exist. SAM attaches it to every role once VpcConfig is in the template, even "
        "when the Condition leaves the VPC out, where its actions are never used",
}

# sam build downloads the layer's wheels: more than the suite's 300 s per test on a slow network
pytestmark = pytest.mark.timeout(900)

EM_AARCH64 = 183  # ELF e_machine of arm64, the template's architecture
CLOUDFORMATION_MAX_RESOURCES = 500  # per stack

# Run with SAM CLI's interpreter: its translator, offline. CodeUri/ContentUri become S3 URIs, as
# `sam validate` does before translating; no managed policy is named, so the loader has nothing to load.
TRANSLATE = """
import json, sys
from samtranslator.translator.transform import transform

class NoManagedPolicies:
    def load(self):
        return {}

template = json.load(sys.stdin)
for resource in template["Resources"].values():
    for key in ("CodeUri", "ContentUri"):
        if key in resource.get("Properties", {}):
            resource["Properties"][key] = "s3://bucket/key"
json.dump(transform(template, {}, NoManagedPolicies()), sys.stdout)
"""


def tool(path: Path) -> str:
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} is missing: run `make install`")
    return str(path)


def run(args: list[str], *, cwd: Path = ROOT, stdin: str | None = None, timeout: float = 120) -> str:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION",
                                                                                         "us-east-1")}
    result = subprocess.run(args, cwd=cwd, env=env, input=stdin, capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result.stdout


def canonical(distribution: str) -> str:
    return re.sub(r"[-_.]+", "_", distribution).lower()


def requirement_names(path: Path) -> set[str]:
    names = set()
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(canonical(re.split(r"[\[=<>!~; ]", line, maxsplit=1)[0]))
    return names


DEV_ONLY_DISTRIBUTIONS = requirement_names(ROOT / "requirements-dev.txt")


def top_level_names(directory: Path) -> set[str]:
    """What ``import`` finds at the top of a directory on sys.path: packages, modules, extensions."""
    names = set()
    for entry in directory.iterdir():
        if entry.is_dir() and not entry.name.endswith((".dist-info", ".egg-info", ".libs", ".data")):
            names.add(entry.name)
        elif entry.suffix in {".py", ".so"}:
            names.add(entry.name.split(".", 1)[0])
    return names


def distributions(directory: Path) -> set[str]:
    return {canonical(entry.name.split("-", 1)[0]) for entry in directory.glob("*.dist-info")}


def runtime_imports(source: Path) -> set[str]:
    """Top-level modules a file imports when it runs: not those under ``if TYPE_CHECKING:``."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".", 1)[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".", 1)[0])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source.read_text(), filename=str(source)))
    return names


def tree_size(directory: Path) -> int:
    return sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Path:
    sam = tool(SAM)
    # SAM writes build.toml beside the build directory: keep both in a directory of their own, and run
    # from there so nothing lands in the checkout.
    where = tmp_path_factory.mktemp("sam")
    run([sam, "build", "--template-file", str(TEMPLATE_PATH), "--build-dir", str(where / "build"),
         "--no-cached", "--parallel"], cwd=where, timeout=600)
    return where / "build"


@pytest.fixture(scope="module")
def layer(build) -> Path:
    return build / LAYER / "python"


@pytest.fixture(scope="module")
def layer_zip(build, tmp_path_factory) -> Path:
    """The layer zipped as `sam package`/`sam deploy` zip it: deflated, paths relative to its root."""
    path = tmp_path_factory.mktemp("package") / "layer.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted((build / LAYER).rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(build / LAYER))
    return path


@pytest.fixture(scope="module")
def deployed() -> dict:
    """template.yaml after the SAM transform: the resources CloudFormation would create."""
    sam_python = tool(SAM_PYTHON)
    return json.loads(run([sam_python, "-c", TRANSLATE], stdin=json.dumps(TEMPLATE)))


def test_sam_validate_lint_passes():
    run([tool(SAM), "validate", "--lint", "--template-file", str(TEMPLATE_PATH)])


def test_cfn_lint_passes():
    run([tool(CFN_LINT), str(TEMPLATE_PATH)])


def test_every_function_builds_with_its_handler_and_no_dependencies(build):
    for function in FUNCTIONS:
        properties = TEMPLATE["Resources"][function]["Properties"]
        built = build / function
        assert (built / f"{properties['Handler'].split('.', 1)[0]}.py").is_file(), function
        # dependencies ride in the layer, so a function's zip holds its own modules and nothing more
        assert not any(built.glob("*.dist-info")), function
        assert top_level_names(built) <= top_level_names(ROOT / properties["CodeUri"]), function


def test_the_layer_zip_is_50_mb_or_less(build, layer_zip):
    unzipped = tree_size(build / LAYER)
    zipped = layer_zip.stat().st_size
    assert zipped <= LAYER_ZIP_LIMIT, f"layer zip {zipped / MB:.1f} MB (unzipped {unzipped / MB:.1f} MB)"
    for function in FUNCTIONS:
        assert unzipped + tree_size(build / function) <= UNZIPPED_LIMIT, function


def test_the_layer_holds_the_package_and_its_requirements(layer):
    assert (layer / "contribsync" / "__init__.py").is_file()
    assert (layer / "contribsync" / "py.typed").is_file()
    # the data files the package reads at run time
    assert any((layer / "contribsync" / "sql").glob("*.sql"))
    assert any((layer / "contribsync" / "graphql").glob("*.graphql"))
    assert any((layer / "contribsync" / "db" / "migrations").glob("*.sql"))
    missing = requirement_names(ROOT / "shared" / "requirements.txt") - distributions(layer)
    assert not missing
    assert "psycopg_binary" in distributions(layer)  # the C implementation, not a libpq the runtime lacks


def test_no_dev_only_package_is_deployed(build, layer):
    for directory in [layer, *(build / f for f in FUNCTIONS)]:
        name = directory.relative_to(build).parts[0]
        modules = top_level_names(directory) & DEV_ONLY_MODULES
        assert not modules, f"{name} deploys {sorted(modules)}"
        dists = distributions(directory) & DEV_ONLY_DISTRIBUTIONS
        assert not dists, f"{name} deploys {sorted(dists)}"


def test_deployed_code_imports_only_what_is_deployed(build, layer):
    available = top_level_names(layer) | set(sys.stdlib_module_names)
    sources = [(source, available) for source in (layer / "contribsync").rglob("*.py")]
    for function in FUNCTIONS:
        own = top_level_names(build / function)
        sources.extend((source, available | own) for source in (build / function).glob("*.py"))
    for source, importable in sources:
        missing = runtime_imports(source) - importable
        assert not missing, f"{source.relative_to(build)} imports {sorted(missing)}, which Lambda would not have"


def test_native_code_in_the_layer_is_built_for_arm64(layer):
    assert TEMPLATE["Globals"]["Function"]["Architectures"] == ["arm64"]
    extensions = [*layer.rglob("*.so"), *layer.rglob("*.so.*")]
    assert extensions  # pydantic-core, psycopg-binary, cryptography
    for extension in extensions:
        header = extension.read_bytes()[:20]
        assert header[:4] == b"\x7fELF", extension.name
        assert int.from_bytes(header[18:20], "little") == EM_AARCH64, extension.relative_to(layer)


def as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


def role_statements(role: dict) -> list[dict]:
    policies = role["Properties"].get("Policies", [])
    return [s for policy in policies for s in as_list(policy["PolicyDocument"]["Statement"])]


def iam_statements(resources: dict) -> list[tuple[str, dict]]:
    found = []
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::IAM::Role":
            found.extend((logical_id, s) for s in role_statements(resource))
        elif resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            found.extend((logical_id, s) for s in as_list(resource["Properties"]["PolicyDocument"]["Statement"]))
    return found


def test_every_function_has_a_role_that_the_checks_below_see(deployed):
    roles = {k for k, v in deployed["Resources"].items() if v["Type"] == "AWS::IAM::Role"}
    assert {f"{f}Role" for f in FUNCTIONS} <= roles
    assert "SchedulerRole" in roles
    assert len(iam_statements(deployed["Resources"])) > len(FUNCTIONS)


def test_iam_statements_name_their_actions_and_resources(deployed):
    for role, statement in iam_statements(deployed["Resources"]):
        assert not {"NotAction", "NotResource"} & statement.keys(), role
        for action in as_list(statement["Action"]):
            assert action != "*" and not action.endswith(":*"), f"{role}: {action}"
        for resource in as_list(statement["Resource"]):
            written = resource.get("Fn::Sub") if isinstance(resource, dict) else resource
            written = written[0] if isinstance(written, list) else written
            assert written != "*", f"{role}: {statement['Action']} on '*'"


def test_roles_carry_only_the_managed_policies_that_cannot_name_resources(deployed):
    attached = {arn for resource in deployed["Resources"].values() if resource["Type"] == "AWS::IAM::Role"
                for arn in resource["Properties"].get("ManagedPolicyArns", [])}
    assert attached <= MANAGED_POLICIES.keys(), attached - MANAGED_POLICIES.keys()


def test_sqs_functions_receive_only_from_their_own_two_queues(deployed):
    # SAM's `SQS` event would attach AWSLambdaSQSQueueExecutionRole: receive and delete on every queue
    resources = deployed["Resources"]
    mappings = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert mappings
    sources: dict[str, list[dict]] = {}
    for mapping in mappings:
        sources.setdefault(mapping["FunctionName"]["Ref"], []).append(mapping["EventSourceArn"])
    for function, arns in sources.items():
        # the normal queue and the high-priority one, each polled by a mapping of its own
        assert sorted(a["Fn::GetAtt"][0] for a in arns) == sorted(
            [f"{function.removesuffix('Function')}Queue", f"{function.removesuffix('Function')}HighQueue"])
        receives = [s for s in role_statements(resources[f"{function}Role"])
                    if "sqs:ReceiveMessage" in as_list(s["Action"])]
        assert [sorted(r["Fn::GetAtt"][0] for r in s["Resource"]) for s in receives] == [
            sorted(a["Fn::GetAtt"][0] for a in arns)], function


def test_the_stack_stays_within_cloudformations_resource_limit(deployed):
    # 11 resources per catalog function (two queues, a DLQ, two mappings, the function and its role, and
    # four alarms): 348 for 29 of them, the URL functions, the migrations, the topic and the dashboard,
    # so some 13 more catalog functions fit
    assert len(deployed["Resources"]) <= CLOUDFORMATION_MAX_RESOURCES
    # and its body within the 1 MB CloudFormation takes from S3 (sam deploy uploads it: resolve_s3)
    assert len(TEMPLATE_PATH.read_bytes()) <= MB
    assert len(json.dumps(deployed, separators=(",", ":"))) <= MB


def lambda_functions(deployed: dict) -> dict[str, dict]:
    return {k: v for k, v in deployed["Resources"].items() if v["Type"] == "AWS::Lambda::Function"}


def test_the_url_functions_reserve_their_concurrency_unless_told_not_to(deployed):
    functions = lambda_functions(deployed)
    for name in ("EventApi", "WebhookReceiver"):
        assert functions[f"{name}Function"]["Properties"]["ReservedConcurrentExecutions"] == {"Fn::If": [
            f"Reserve{name}Concurrency", {"Ref": f"{name}ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]}
    assert not [k for k, v in functions.items() if k not in {"EventApiFunction", "WebhookReceiverFunction"}
                and "ReservedConcurrentExecutions" in v["Properties"]]


def test_the_webhook_receiver_may_send_only_to_the_four_webhook_queues(deployed):
    sends = {r["Fn::GetAtt"][0] for s in role_statements(deployed["Resources"]["WebhookReceiverFunctionRole"])
             if "sqs:SendMessage" in as_list(s["Action"]) for r in as_list(s["Resource"])}
    assert sends == {"ApplyPullRequestWebhookQueue", "ApplyIssueWebhookQueue", "ApplyDiscussionWebhookQueue",
                     "ApplyRepositoryWebhookQueue"}


def test_every_function_joins_the_vpc_when_subnets_are_given(deployed):
    for name, function in lambda_functions(deployed).items():
        assert function["Properties"]["VpcConfig"]["Fn::If"][0] == "UseVpc", name
        role = deployed["Resources"][f"{name}Role"]["Properties"]
        assert "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole" in role["ManagedPolicyArns"]


def test_the_alarms_and_the_dashboard_are_deployed(deployed):
    resources = deployed["Resources"]
    alarms = [v["Properties"] for v in resources.values() if v["Type"] == "AWS::CloudWatch::Alarm"]
    queue_fed = {m["Properties"]["FunctionName"]["Ref"] for m in resources.values()
                 if m["Type"] == "AWS::Lambda::EventSourceMapping"}
    assert len(alarms) == 4 * len(queue_fed) + 2 * 2  # DLQ, age, errors, throttles; errors, throttles
    assert all(a["AlarmActions"] == a["OKActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)
    assert resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    assert [v["Type"] for v in resources.values()].count("AWS::CloudWatch::Dashboard") == 1


def test_the_migrations_run_before_anything_consumes(deployed):
    resources = deployed["Resources"]
    custom = resources["DatabaseMigrations"]
    assert custom["Type"] == "Custom::DatabaseMigrations"
    assert custom["Properties"]["ServiceToken"] == {"Fn::GetAtt": ["MigrateDatabaseFunction", "Arn"]}
    mappings = [v for v in resources.values() if v["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert mappings and all("DatabaseMigrations" in as_list(m.get("DependsOn", [])) for m in mappings)
    for name, function in lambda_functions(deployed).items():
        if name != "MigrateDatabaseFunction":
            assert "DatabaseMigrations" in as_list(function.get("DependsOn", [])), name
