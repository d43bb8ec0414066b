"""The CI building blocks parse, and every ``reconciler`` command in them exists.

Each ``reconciler ...`` invocation in a workflow's shell steps (or the
pre-commit hook's entry) is checked against the click CLI: the subcommand
must exist, and so must each option, except those in ``EXPECTED_SOON``
(being built now) while they are still missing. A step that uses the GitHub
Action (``action.yml``) is run with a fake ``reconciler`` (tests/e2e/test_action.py)
to learn the command line it builds, which is checked the same way.

The examples install the tool by its distribution name, pinned, and use actions
that run on node24 (actionlint checks them too: tests/e2e/test_actionlint.py).

The examples also follow the trust model (the manifest is untrusted, the
policy file is not): shipped manifests read only what the default policy
allows (their ${file:} secrets, what the demo's policy allows), secrets
(``${env:}``, ``${file:}``) only in client_secret and plain values as
``${var:}``, the example policy allows what the production manifests read
and prints no secret's name, the
plan jobs get a plan key and only the variables the policy allows, every
command runs under the policy, which CODEOWNERS covers, and apply runs from
the default branch with the production key behind a protected environment.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import pytest
import yaml

from reconciler.cli import cli
from reconciler.errors import ManifestError
from reconciler.manifest import load
from reconciler.policy import DEFAULT_POLICY, load_policy
from reconciler.yamlsource import parse
from tests.e2e.test_action import DISTRIBUTION, make_fakes, run_action, substitute

ROOT = Path(__file__).resolve().parents[2]
GITHUB = ROOT / "examples" / "ci" / "github-actions.yml"
GITLAB = ROOT / "examples" / "ci" / "gitlab-ci.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
EXAMPLES = ROOT / "examples"
POLICY = EXAMPLES / "ci" / "reconciler-policy.yaml"
DEMO_POLICY = EXAMPLES / "demo-policy.yaml"
CODEOWNERS = EXAMPLES / "ci" / "CODEOWNERS"
PRODUCTION_MANIFESTS = (
    EXAMPLES / "environments" / "base",
    EXAMPLES / "environments" / "production",
)
DEFAULT_ENV_GLOBS = ["RECONCILER_*"]
DEFAULT_VAR_GLOBS = ["RECONCILER_VAR_*"]
EXPECTED_SOON = {"--out", "--plan", "--environment"}
EXPECTED_SOON_VALUES = {("--format", "markdown")}
_SEPARATORS = {";", "&&", "||", "|", "&", "(", ")", "$("}
_REDIRECTIONS = re.compile(r"\d*[<>]+&?")
_SCRIPT_KEYS = ("before_script", "script", "after_script")
ACTION_USES = "your-org/reconciler@"
"""How the examples refer to the action: ``your-org`` is a placeholder."""
NODE24_MAJORS = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/upload-artifact": 6,
    "actions/download-artifact": 6,
}
"""The first major version of each action that runs on node24 (node20 left the runners)."""


def _load(path: Path) -> Any:
    """A YAML file as the project reads YAML (1.2 core: ``on`` stays a string).

    It must read with PyYAML too, as CI systems' YAML 1.1 parsers would.
    """
    assert yaml.safe_load(path.read_text(encoding="utf-8")) is not None
    document = parse(path.read_bytes(), str(path))
    assert not document.problems, [str(problem) for problem in document.problems]
    assert document.root is not None
    return document.root.value


def reconciler_commands(script: str) -> list[list[str]]:
    """The arguments of each ``reconciler`` command a shell script runs."""
    found: list[list[str]] = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        command: list[str] = []
        tokens = list(lexer)
        index = 0
        while index <= len(tokens):
            token = tokens[index] if index < len(tokens) else ";"
            if token in _SEPARATORS:
                if command[:1] == ["reconciler"]:
                    found.append(command[1:])
                command = []
            elif _REDIRECTIONS.fullmatch(token):
                index += 1  # the redirection's target
            elif command or not re.fullmatch(r"[A-Za-z_]\w*=.*", token):
                command.append(token)
            index += 1
    return found


def _github_scripts(workflow: dict[str, Any]) -> list[str]:
    return [
        step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step
    ]


def _uses_action(step: dict[str, Any]) -> bool:
    return str(step.get("uses", "")).startswith(ACTION_USES)


def _action_inputs(step: dict[str, Any], env: dict[str, Any]) -> dict[str, str]:
    """A step's ``with:`` as the runner passes it: strings, ``${{ env.X }}`` filled in."""
    inputs: dict[str, str] = {}
    for name, value in step.get("with", {}).items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        inputs[name] = substitute(text, {"env": env})
    return inputs


def _action_runs(workflow: dict[str, Any], tmp_path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Each step of ``workflow`` that uses the action, run with a fake ``reconciler``: the job's
    name and what the fake saw (``arguments``, ``env``), with the step's environment."""
    fakes = make_fakes(tmp_path / "fakes")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    runs: list[tuple[str, dict[str, Any]]] = []
    for name, job in workflow["jobs"].items():
        for step in job["steps"]:
            if not _uses_action(step):
                continue
            env = {**workflow.get("env", {}), **job.get("env", {}), **step.get("env", {})}
            before = len(fakes.calls())
            run = run_action(
                _action_inputs(step, env),
                workspace=workspace,
                runner_temp=tmp_path / "runner-temp",
                env=fakes.env(),
                installed=fakes.installed(),
                timeout=60,
            )
            assert run.failed is None, run.log
            (call,) = fakes.calls()[before:]
            runs.append((name, {**call, "step": step, "step_env": env}))
    return runs


def _gitlab_scripts(pipeline: dict[str, Any]) -> list[str]:
    scripts: list[str] = []
    for job in pipeline.values():
        if not isinstance(job, dict):
            continue
        for key in _SCRIPT_KEYS:
            lines = job.get(key, [])
            scripts.extend([lines] if isinstance(lines, str) else lines)
    return scripts


def _hook_scripts(hooks: list[dict[str, Any]]) -> list[str]:
    return [" ".join([hook["entry"], *map(shlex.quote, hook.get("args", []))]) for hook in hooks]


def _option_names(command: click.Command) -> dict[str, click.Option]:
    names = {
        name: option
        for option in command.params
        if isinstance(option, click.Option)
        for name in (*option.opts, *option.secondary_opts)
    }
    return names


def _check(arguments: list[str]) -> None:
    """One ``reconciler`` command line: a real subcommand, real options, valid choices."""
    assert arguments, "a bare `reconciler` runs nothing"
    name, *rest = arguments
    assert name in cli.commands, f"`reconciler {name}` is not a command"
    command = cli.commands[name]
    options = _option_names(command)
    help_names = set(command.get_help_option_names(click.Context(command)))
    index = 0
    while index < len(rest):
        token = rest[index]
        index += 1
        if not token.startswith("-"):
            continue
        option_name, has_value, inline = token.partition("=")
        option = options.get(option_name)
        if option is None:
            assert option_name in help_names or option_name in EXPECTED_SOON, (
                f"`reconciler {name}` has no option {option_name}"
            )
            pending_value = not has_value and index < len(rest)
            if pending_value and not rest[index].startswith("-"):
                index += 1  # assume the missing option takes a value
            continue
        if option.is_flag or option.count:
            continue
        value = inline if has_value else rest[index]
        index += 0 if has_value else 1
        if isinstance(option.type, click.Choice) and (option_name, value) not in (
            EXPECTED_SOON_VALUES
        ):
            assert value in option.type.choices, f"{name} {option_name} {value}"


def test_command_extraction() -> None:
    script = (
        'set +e\nFOO=1 reconciler plan -f "$A dir" --out=plan.json \\\n  --format json > plan.md\n'
        "echo reconciler; reconciler validate || exit 1\npip install reconciler\n"
        "x=$(reconciler schema)"
    )
    assert reconciler_commands(script) == [
        ["plan", "-f", "$A dir", "--out=plan.json", "--format", "json"],
        ["validate"],
        ["schema"],
    ]


def test_the_check_catches_what_does_not_exist() -> None:
    _check(["plan", "-f", "x", "--format", "markdown", "--detailed-exitcode"])
    with pytest.raises(AssertionError, match="not a command"):
        _check(["deploy"])
    with pytest.raises(AssertionError, match="has no option --colour"):
        _check(["plan", "--colour"])
    with pytest.raises(AssertionError):
        _check(["plan", "--format", "yaml"])


def test_github_actions_workflow(tmp_path: Path) -> None:
    """Pull requests planned for review; on merge a plan saved as an artifact, applied by a
    job behind the protected environment with `apply --plan`."""
    workflow = _load(GITHUB)
    assert set(workflow["on"]) >= {"pull_request", "push"}
    assert workflow["on"]["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    assert set(jobs) == {"plan", "plan-production", "apply", "drift"}
    plan_job, saving, apply_job = jobs["plan"], jobs["plan-production"], jobs["apply"]
    assert "pull_request" in plan_job["if"]
    assert plan_job["permissions"]["pull-requests"] == "write"
    assert plan_job["concurrency"] == {
        "group": "integrations-plan-${{ github.event.pull_request.number }}",
        "cancel-in-progress": True,
    }, "one plan per pull request at a time"
    (commented,) = [step for step in plan_job["steps"] if _uses_action(step)]
    assert commented["with"]["comment"] is True, "the plan as a sticky pull-request comment"
    assert ".trusted-base/" in commented["with"]["baseline"], "the base branch's manifests"
    assert "no-secrets" not in commented["with"], "the action's default: --no-secrets on PRs"

    assert saving["environment"] == "production-plan"
    assert "refs/heads/main" in saving["if"] and "push" in saving["if"]
    assert saving["outputs"] == {"has-changes": "${{ steps.plan.outputs.has-changes }}"}
    (upload,) = [s for s in saving["steps"] if "upload-artifact" in s.get("uses", "")]
    assert upload["with"]["path"] == "${{ steps.plan.outputs.plan-path }}"
    assert upload["with"]["name"] == "plan-${{ github.sha }}"

    assert apply_job["environment"] == "production"
    assert apply_job["needs"] == "plan-production"
    assert "needs.plan-production.outputs.has-changes == 'true'" in apply_job["if"]
    assert "refs/heads/main" in apply_job["if"]
    assert apply_job["env"]["WORKOS_API_KEY"] == "${{ secrets.WORKOS_API_KEY }}"
    assert all(
        "secrets." in value
        for key, value in apply_job["env"].items()
        if key.endswith("SECRET") or key.endswith("API_KEY")
    )
    (download,) = [s for s in apply_job["steps"] if "download-artifact" in s.get("uses", "")]
    assert download["with"]["name"] == upload["with"]["name"], "the very plan saved"
    (applying,) = [step for step in apply_job["steps"] if _uses_action(step)]
    directory = download["with"]["path"].removeprefix("${{ runner.temp }}/")
    assert applying["with"]["plan-file"] == f"{directory}/plan.json"
    assert applying["with"]["comment"] is True, "the results on the merged pull request"
    assert apply_job["permissions"]["pull-requests"] == "write"
    for job in jobs.values():
        assert not any("gh " in step.get("run", "") for step in job["steps"]), "the action's job"
        assert any(_uses_action(step) for step in job["steps"])

    runs = _action_runs(workflow, tmp_path)
    assert {name for name, _ in runs} == set(jobs)
    commands = [
        args for script in _github_scripts(workflow) for args in reconciler_commands(script)
    ] + [run["arguments"] for _, run in runs]
    for arguments in commands:
        _check(arguments)
    plans = [args for args in commands if args[0] == "plan"]
    assert any({"--format", "markdown", "--out", "--baseline"} <= set(args) for args in plans)
    assert any("--detailed-exitcode" in args for args in plans)
    applies = [args for args in commands if args[0] == "apply"]
    assert applies and all({"--plan", "--yes"} <= set(args) for args in applies)


def test_gitlab_ci_pipeline() -> None:
    pipeline = _load(GITLAB)
    assert pipeline["stages"] == ["plan", "apply"]
    plan_job, saving, apply_job = pipeline["plan"], pipeline["plan-production"], pipeline["apply"]
    assert "merge_request_event" in plan_job["rules"][0]["if"]
    assert plan_job["interruptible"] is True, "one plan per merge request at a time"
    assert plan_job["allow_failure"] == {"exit_codes": [2]}
    assert "plan.json" in plan_job["artifacts"]["paths"]
    assert saving["environment"]["name"] == "production-plan"
    assert "plan.json" in saving["artifacts"]["paths"]
    assert apply_job["needs"] == ["plan-production"], "the plan it applies is that job's"
    assert apply_job["environment"]["name"] == "production"
    assert "CI_DEFAULT_BRANCH" in apply_job["rules"][0]["if"]
    script = "\n".join(plan_job["script"])
    assert "Plans of forks are not run" in script
    assert "CI_MERGE_REQUEST_SOURCE_PROJECT_ID" in script

    commands = [
        args for script in _gitlab_scripts(pipeline) for args in reconciler_commands(script)
    ]
    for arguments in commands:
        _check(arguments)
    plans = [args for args in commands if args[0] == "plan"]
    assert any(
        {"--format", "markdown", "--out", "--detailed-exitcode", "--no-secrets", "--baseline"}
        <= set(args)
        for args in plans
    )
    applies = [args for args in commands if args[0] == "apply"]
    assert applies and all({"--plan", "--yes"} <= set(args) for args in applies)


def test_pre_commit_hook() -> None:
    hooks = _load(HOOKS)
    (hook,) = hooks
    assert hook["id"] == "reconciler-validate"
    assert {"id", "name", "entry", "language"} <= set(hook)
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    (arguments,) = reconciler_commands(_hook_scripts(hooks)[0])
    _check(arguments)
    assert arguments[:2] == ["validate", "--no-secrets"]
    assert "-f" in arguments
    files = re.compile(hook["files"])
    for path in ("integrations.yaml", "integrations.yml", "integrations/prod/github.yaml"):
        assert files.search(path), path
    for path in (".pre-commit-config.yaml", "README.md", "docs/integrations.md"):
        assert not files.search(path), path


# --- the trust model ----------------------------------------------------------------

_ENV_REFERENCE = re.compile(r"\$\{env:([^}:]*)(?::-([^}]*))?\}")
_VAR_REFERENCE = re.compile(r"\$\{var:([^}:]*)(?::-([^}]*))?\}")
_FILE_REFERENCE = re.compile(r"\$\{file:([^}]*)\}")
_RUNS_RECONCILER = re.compile(r"(?:^|[\s;&|(])reconciler\s+(?:validate|plan|apply|export)\b")
_URL_KEYS = ("authorization_url", "token_url", "refresh_token_url")


def _strings(value: Any) -> Iterator[tuple[str, str]]:
    """Every string of a YAML document, with the key it is the value of."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        key, item = stack.pop()
        if isinstance(item, str):
            yield key, item
        elif isinstance(item, dict):
            stack.extend((str(k), v) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((key, v) for v in item)


def _manifests(*roots: Path) -> list[Path]:
    found: list[Path] = []
    for root in roots:
        paths = [root] if root.is_file() else sorted(root.rglob("*.y*ml"))
        found.extend(path for path in paths if path.suffix in (".yaml", ".yml"))
    return found


def _names(reference: re.Pattern[str], *roots: Path) -> set[str]:
    return {
        match.group(1)
        for path in _manifests(*roots)
        for _, text in _strings(_load(path))
        for match in reference.finditer(text)
    }


def _env_names(*roots: Path) -> set[str]:
    """The variables ``${env:}`` client secrets read."""
    return _names(_ENV_REFERENCE, *roots)


def _var_names(*roots: Path) -> set[str]:
    """The variables ``${var:}`` plain values read (printed)."""
    return _names(_VAR_REFERENCE, *roots)


def _unset_value(text: str) -> str:
    """A field's value when its variable is unset: a reference's default, or the text."""
    match = _VAR_REFERENCE.fullmatch(text)
    return text if match is None else match.group(2) or ""


def _allowed(name: str, globs: list[str]) -> bool:
    return name != "WORKOS_API_KEY" and any(fnmatchcase(name, glob) for glob in globs)


def _env_globs(policy: dict[str, Any]) -> list[str]:
    globs: list[str] = policy.get("references", {}).get("env", DEFAULT_ENV_GLOBS)
    return globs


def _var_globs(policy: dict[str, Any]) -> list[str]:
    globs: list[str] = policy.get("references", {}).get("vars", DEFAULT_VAR_GLOBS)
    return globs


def _url_allowed(url: str, patterns: list[str]) -> bool:
    """Per docs/design.md: https only, the host matched label by label, the path apart."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return False
    labels = parts.hostname.split(".")
    for pattern in patterns:
        wanted = urlsplit(pattern)
        assert wanted.scheme == "https" and wanted.hostname, pattern
        wanted_labels = wanted.hostname.split(".")
        same_host = len(labels) == len(wanted_labels) and all(
            fnmatchcase(label, glob) for label, glob in zip(labels, wanted_labels, strict=True)
        )
        if same_host and fnmatchcase(parts.path or "/", wanted.path or "/"):
            return True
    return False


def _codeowners(text: str) -> list[tuple[re.Pattern[str], list[str]]]:
    """CODEOWNERS rules (gitignore-style patterns) as regexes over repository paths."""
    rules: list[tuple[re.Pattern[str], list[str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        pattern, *owners = line.split()
        anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
        body = re.escape(pattern.strip("/"))
        body = body.replace(r"\*\*", ".*").replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        prefix = "" if anchored else "(?:.*/)?"
        rules.append((re.compile(f"{prefix}{body}(?:/.*)?"), owners))
    return rules


def _owners(path: str, rules: list[tuple[re.Pattern[str], list[str]]]) -> list[str]:
    """The owners of ``path``: the last matching rule wins, as on GitHub and GitLab."""
    owners: list[str] = []
    for pattern, rule_owners in rules:
        if pattern.fullmatch(path):
            owners = rule_owners
    return owners


def _runs_reconciler(script: str) -> bool:
    return bool(_RUNS_RECONCILER.search(script))


def _under_policy(arguments: list[str], environment: dict[str, Any]) -> bool:
    return "--policy" in arguments or bool(environment.get("RECONCILER_POLICY"))


def test_shipped_manifests_follow_the_default_policy() -> None:
    """Every example reads only ``RECONCILER_*`` secrets and ``RECONCILER_VAR_*`` plain
    values, secrets in client_secret only; its ``${file:}`` secrets lie in its own tree,
    which the default policy refuses and the demo's policy allows."""
    manifests = _manifests(EXAMPLES / "integrations.yaml", EXAMPLES / "environments")
    assert len(manifests) == 6
    names, variables = _env_names(*manifests), _var_names(*manifests)
    assert names, "the examples show ${env:} references"
    assert variables, "the examples show ${var:} references"
    assert all(_allowed(name, DEFAULT_ENV_GLOBS) for name in names), sorted(names)
    assert all(_allowed(name, DEFAULT_VAR_GLOBS) for name in variables), sorted(variables)
    demo = load_policy(DEMO_POLICY)
    files = 0
    for manifest in manifests:
        for key, text in _strings(_load(manifest)):
            secret = _ENV_REFERENCE.search(text) or _FILE_REFERENCE.search(text)
            assert (key == "client_secret") == bool(secret), f"{manifest}: {key}: {text}"
            for match in _FILE_REFERENCE.finditer(text):
                files += 1
                real = os.path.realpath(manifest.parent / match.group(1))
                assert real.startswith(str(manifest.parent.resolve()) + os.sep), match.group(0)
                assert Path(real).is_file(), match.group(0)
                assert DEFAULT_POLICY.file_refusal(real) is not None, match.group(0)
                assert demo.file_refusal(real) is None, match.group(0)
    assert files, "the examples show a ${file:} reference"


def test_the_demo_sets_what_the_example_reads() -> None:
    demo = (EXAMPLES / "demo.sh").read_text(encoding="utf-8")
    exported = set(re.findall(r"^export ([A-Z_][A-Z0-9_]*)=", demo, re.MULTILINE))
    assert _env_names(EXAMPLES / "integrations.yaml") <= exported
    assert _var_names(EXAMPLES / "integrations.yaml") <= exported
    for_manifests = {name for name in exported if not name.startswith("WORKOS_")}
    assert for_manifests and all(_allowed(name, DEFAULT_ENV_GLOBS) for name in for_manifests)
    # its ${file:} secret needs a policy: the demo's, named as the tool reads it
    policy = re.search(r"^export RECONCILER_POLICY=(\S+)$", demo, re.MULTILINE)
    assert policy is not None and ROOT / policy.group(1) == DEMO_POLICY


def test_example_policy_format() -> None:
    """The example policy is version 1 of docs/design.md's format and loosens nothing."""
    policy = _load(POLICY)
    assert set(policy) <= {"version", "environment", "references", "custom_provider_urls", "safety"}
    assert policy["version"] == 1 and policy["version"] is not True
    assert policy["environment"] == "production"
    references, safety = policy["references"], policy["safety"]
    assert set(references) <= {"env", "vars", "files"}
    for key in ("env", "vars"):
        assert all(re.fullmatch(r"[A-Za-z0-9_*?]+", glob) for glob in references[key])
        assert not any(fnmatchcase("WORKOS_API_KEY", glob) for glob in references[key])
    assert all(glob.startswith("RECONCILER_") for glob in references["env"])
    assert all(glob.startswith("RECONCILER_VAR_") for glob in references["vars"])
    # a ${var:} value is printed: no secret's name may match a vars glob
    secrets = _env_names(*PRODUCTION_MANIFESTS) | set(references["env"])
    assert not any(fnmatchcase(name, glob) for name in secrets for glob in references["vars"]), (
        "a plain variable could print a secret"
    )
    assert isinstance(references["files"], list)
    assert all(pattern.startswith("https://") for pattern in policy["custom_provider_urls"])
    assert set(safety) <= {"protect", "allow_prune", "max_delete_fraction"}
    for pattern in safety["protect"]:
        slug, _, ownership = pattern.partition("/")
        assert slug and ownership in ("", "user", "organization"), pattern
    assert safety["allow_prune"] is False
    assert 0 <= safety["max_delete_fraction"] <= 0.3
    header = POLICY.read_text(encoding="utf-8")
    for ci in (GITHUB, GITLAB):
        where = _load(ci).get("env") or _load(ci)["variables"]
        assert where["RECONCILER_POLICY"] in header, f"{POLICY.name} says where {ci.name} wants it"


def test_example_policy_loads_and_admits_the_production_manifests() -> None:
    """The policy loader accepts the example, and the production manifests load under it."""
    loaded = load_policy(POLICY)
    assert loaded.environment == "production"
    assert loaded.env_refusal("WORKOS_API_KEY") is not None
    assert loaded.env_refusal("AWS_SECRET_ACCESS_KEY") is not None
    for name in _env_names(*PRODUCTION_MANIFESTS):
        assert loaded.var_refusal(name) is not None, f"{name} could be printed"
    names = _env_names(*PRODUCTION_MANIFESTS) | _var_names(*PRODUCTION_MANIFESTS)
    environ = {name: f"{name.lower()}-0001" for name in names}
    environ.pop("RECONCILER_VAR_ACME_CRM_AUTHORIZATION_URL")  # unset in production: defaults
    environ.pop("RECONCILER_VAR_ACME_CRM_TOKEN_URL")
    desired = load(list(PRODUCTION_MANIFESTS), policy=loaded, environ=environ)
    assert desired.settings.environment == loaded.environment
    elsewhere = "https://crm.evil.example/oauth/token"
    with pytest.raises(ManifestError, match="not allowed by policy") as refused:
        load(
            list(PRODUCTION_MANIFESTS),
            policy=loaded,
            environ={**environ, "RECONCILER_VAR_ACME_CRM_TOKEN_URL": elsewhere},
        )
    assert elsewhere not in str(refused.value), "a referenced value is never echoed"


def test_example_policy_allows_what_production_reads() -> None:
    policy = _load(POLICY)
    globs = _env_globs(policy)
    names = _env_names(*PRODUCTION_MANIFESTS)
    assert names and all(_allowed(name, globs) for name in names), sorted(names)
    var_globs = _var_globs(policy)
    variables = _var_names(*PRODUCTION_MANIFESTS)
    assert variables and all(_allowed(name, var_globs) for name in variables), sorted(variables)
    urls = [
        _unset_value(text)
        for path in _manifests(*PRODUCTION_MANIFESTS)
        for key, text in _strings(_load(path))
        if key in _URL_KEYS
    ]
    assert urls and all(_url_allowed(url, policy["custom_provider_urls"]) for url in urls), urls
    assert not _url_allowed("https://evil.example/oauth/token", policy["custom_provider_urls"])
    assert not _url_allowed("http://crm.acme.example/oauth/token", policy["custom_provider_urls"])


def test_codeowners_matching() -> None:
    rules = _codeowners("*.md @docs\n/.github/ @ci\n/.github/x.yaml @sec\nlib/**/a @a\n")
    assert _owners("README.md", rules) == ["@docs"]
    assert _owners("docs/guide.md", rules) == ["@docs"]
    assert _owners(".github/workflows/w.yml", rules) == ["@ci"]
    assert _owners(".github/x.yaml", rules) == ["@sec"]
    assert _owners("lib/b/c/a", rules) == ["@a"]
    assert _owners("src/.github/x.yaml", rules) == []


def test_codeowners_example_covers_the_trusted_paths() -> None:
    rules = _codeowners(CODEOWNERS.read_text(encoding="utf-8"))
    assert rules and all(owners for _, owners in rules)
    assert all(owner.startswith("@") for _, owners in rules for owner in owners)
    workflow, pipeline = _load(GITHUB), _load(GITLAB)
    (workflow_path,) = [
        path
        for path in workflow["on"]["pull_request"]["paths"]
        if path.startswith(".github/")
        if path.endswith((".yml", ".yaml")) and "/workflows/" in path
    ]
    trusted = {
        workflow["env"]["RECONCILER_POLICY"]: "the GitHub policy",
        workflow_path: "the GitHub workflow",
        pipeline["variables"]["RECONCILER_POLICY"]: "the GitLab policy",
        ".gitlab-ci.yml": "the GitLab pipeline",
        ".github/CODEOWNERS": "GitHub's CODEOWNERS itself",
        ".gitlab/CODEOWNERS": "GitLab's CODEOWNERS itself",
    }
    manifest_owners = _owners("integrations/production/integrations.yaml", rules)
    for path, what in trusted.items():
        owners = _owners(path, rules)
        assert owners, f"CODEOWNERS leaves {what} ({path}) without an owner"
        assert not set(owners) & set(manifest_owners), f"{what} is owned like the manifests"


PRODUCTION_ENVIRONMENTS = {"production", "production-plan"}
"""Where the production key and the client secrets live (deployment branch: main)."""


def test_github_actions_follows_the_trust_model(tmp_path: Path) -> None:
    workflow = _load(GITHUB)
    policy_globs = _env_globs(_load(POLICY))
    var_globs = _var_globs(_load(POLICY))
    assert "pull_request_target" not in workflow["on"]
    assert "workflow_run" not in workflow["on"]
    policy_path = workflow["env"]["RECONCILER_POLICY"]
    assert policy_path.startswith(".github/")
    for event in ("pull_request", "push"):
        assert policy_path in workflow["on"][event]["paths"], f"a policy change runs {event}"
    assert not any("secrets." in str(value) for value in workflow["env"].values())
    jobs = workflow["jobs"]

    for name, job in jobs.items():
        env = {**workflow["env"], **job.get("env", {})}
        if re.search(r"secrets\.(WORKOS_API_KEY|RECONCILER_)", repr(job)):
            assert job.get("environment") in PRODUCTION_ENVIRONMENTS, f"{name}: key or secrets"
            assert "refs/heads/main" in job["if"], name
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                with_ = step.get("with", {})
                assert with_.get("persist-credentials") is False, f"{name}: {step}"
                assert "head" not in str(with_.get("ref", "")), f"{name} checks out the PR head"
            if not _runs_reconciler(step.get("run", "")):
                continue
            step_env = {**env, **step.get("env", {})}
            assert not {"GH_TOKEN", "GITHUB_TOKEN"} & set(step_env), f"{name}: {step['name']}"
            for arguments in reconciler_commands(step["run"]):
                assert _under_policy(arguments, step_env), f"{name}: {arguments} without policy"
    for name, run in _action_runs(workflow, tmp_path):
        assert not {"GH_TOKEN", "GITHUB_TOKEN"} & set(run["step_env"]), name
        assert run["env"]["GH_TOKEN"] is None and run["env"]["GITHUB_TOKEN"] is None, name
        assert "github-token" not in run["step"].get("with", {}), f"{name}: the default token"
        assert _under_policy(run["arguments"], run["step_env"]), f"{name}: {run['arguments']}"

    plan_job = jobs["plan"]
    assert "environment" not in plan_job
    assert plan_job["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert plan_job["env"]["WORKOS_API_KEY"] == "${{ secrets.WORKOS_PLAN_API_KEY }}"
    used = set(re.findall(r"secrets\.([A-Za-z0-9_]+)", repr(plan_job)))
    assert used == {"WORKOS_PLAN_API_KEY"}, "no client secret is given to the PR job"
    assert all(
        _allowed(variable, var_globs) and "vars." in str(value)
        for variable, value in plan_job["env"].items()
        if variable != "WORKOS_API_KEY"
    ), "the PR job gets repository variables (${var:}) only"
    for name in ("plan-production", "apply", "drift"):
        assert jobs[name]["env"]["WORKOS_API_KEY"] == "${{ secrets.WORKOS_API_KEY }}", name
        assert jobs[name]["environment"] in PRODUCTION_ENVIRONMENTS, name
        for variable, value in jobs[name]["env"].items():
            if variable == "WORKOS_API_KEY":
                continue
            # a secret is read as ${env:} only; a repository variable is a ${var:}
            globs = policy_globs if "secrets." in str(value) else var_globs
            assert _allowed(variable, globs), (name, variable, value)
    assert jobs["apply"]["environment"] == "production", "the protected environment: the gate"
    assert "refs/heads/main" in jobs["drift"]["if"]

    steps = plan_job["steps"]
    guard = steps[0]
    assert guard["id"] == "guard" and "head.repo.full_name" in str(guard["env"])
    assert all("steps.guard.outputs.run == 'true'" in step.get("if", "") for step in steps[1:])
    first_reconciler = min(
        i
        for i, step in enumerate(steps)
        if _runs_reconciler(step.get("run", "")) or _uses_action(step)
    )
    (base_checkout,) = [
        i
        for i, step in enumerate(steps)
        if "pull_request.base" in str(step.get("with", {}).get("ref", ""))
    ]
    checkout = steps[base_checkout]["with"]
    assert "${{ env.RECONCILER_POLICY }}" in checkout["sparse-checkout"].splitlines()
    (copy,) = [
        i
        for i, step in enumerate(steps)
        if "cp " in step.get("run", "") and "$RECONCILER_POLICY" in step.get("run", "")
    ]
    assert base_checkout < copy < first_reconciler, "the base branch's policy is used"
    assert 'RECONCILER_POLICY=$trusted" >> "$GITHUB_ENV"' in steps[copy]["run"]
    assert "$RUNNER_TEMP" in steps[copy]["run"], "the trusted copy lives outside the checkout"


def test_gitlab_ci_follows_the_trust_model() -> None:
    pipeline = _load(GITLAB)
    variables = pipeline["variables"]
    policy_path = variables["RECONCILER_POLICY"]
    assert "WORKOS_API_KEY" not in variables
    assert not any(_allowed(name, _env_globs(_load(POLICY))) for name in variables)
    jobs = {
        name: job for name, job in pipeline.items() if isinstance(job, dict) and "script" in job
    }
    for name, job in jobs.items():
        env = {**variables, **job.get("variables", {})}
        for script in job["script"]:
            for arguments in reconciler_commands(script):
                assert _under_policy(arguments, env), f"{name}: {arguments} without policy"

    plan_job = jobs["plan"]
    assert "environment" not in plan_job
    assert plan_job["variables"] == {"WORKOS_API_KEY": "$WORKOS_PLAN_API_KEY"}
    for name in ("plan-production", "apply", "drift"):
        job = jobs[name]
        assert "WORKOS_API_KEY" not in job.get("variables", {}), f"{name}: the scoped key"
        assert job["environment"]["name"] in PRODUCTION_ENVIRONMENTS, name
        assert "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" in job["rules"][0]["if"], name
    for name in ("plan", "plan-production", "apply"):
        assert policy_path in jobs[name]["rules"][0]["changes"], "a policy change runs the job"

    script = "\n".join(plan_job["script"])
    fetch = script.index("CI_MERGE_REQUEST_TARGET_BRANCH")
    show = script.index('git show "FETCH_HEAD:${RECONCILER_POLICY}"')
    assert fetch < show < script.index("reconciler validate"), "the target branch's policy"
    assert 'export RECONCILER_POLICY=""' in script, "no policy there: the default, said so"


# --- what the examples install and use ------------------------------------------------

_PIP_INSTALL = re.compile(r"pip install\s+(\"[^\"]+\"|'[^']+'|\S+)")


def test_the_examples_install_our_distribution_pinned(tmp_path: Path) -> None:
    """Never the bare name ``reconciler`` (an unrelated project on the public index): the
    distribution workos-pipes-reconciler, at RECONCILER_VERSION, from the release's tag
    until it is published."""
    workflow, pipeline = _load(GITHUB), _load(GITLAB)
    version = workflow["env"]["RECONCILER_VERSION"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert pipeline["variables"]["RECONCILER_VERSION"] == version
    tag_source = f"{DISTRIBUTION} @ git+https://github.com/your-org/reconciler@v"
    assert workflow["env"]["RECONCILER_SOURCE"] == tag_source + version
    steps = [
        (step, {**workflow["env"], **job.get("env", {})})
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if _uses_action(step)
    ]
    assert len(steps) == 4
    for step, env in steps:
        inputs = _action_inputs(step, env)
        assert inputs["version"] == version, step
        assert inputs["source"] == tag_source + version, step
    installs = [
        match.group(1).strip("\"'")
        for path in sorted((EXAMPLES / "ci").iterdir())
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
        for match in _PIP_INSTALL.finditer(line)
    ]
    assert installs == [tag_source + "${RECONCILER_VERSION}"], installs
    assert pipeline["default"]["before_script"] == [f'pip install "{installs[0]}"']
    once_published = {
        GITHUB: "drop RECONCILER_SOURCE",
        GITLAB: f'pip install "{DISTRIBUTION}==${{RECONCILER_VERSION}}"',
    }
    for path, advice in once_published.items():
        text = " ".join(path.read_text(encoding="utf-8").split())
        assert advice in text, f"{path.name} says how to install once published"
        assert (
            "your-org is a placeholder" in text or "`your-org/reconciler` is a placeholder" in text
        )


def test_the_examples_use_node24_actions() -> None:
    """Every action the examples use is one of these, at a major version that runs on
    node24, or the reconciler's own action."""
    workflow = _load(GITHUB)
    uses = [
        step["uses"] for job in workflow["jobs"].values() for step in job["steps"] if "uses" in step
    ]
    assert uses
    for use in uses:
        if use.startswith(ACTION_USES):
            assert use == f"{ACTION_USES}v1", use
            continue
        action, _, ref = use.partition("@")
        assert action in NODE24_MAJORS, use
        assert re.fullmatch(r"v\d+", ref) and int(ref[1:]) >= NODE24_MAJORS[action], use
