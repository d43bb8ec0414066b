"""The workflow: the rules of a run, for the CLI and any Python caller alike.

``review`` lists the remote integrations, plans, checks a saved plan still
holds, and applies the safety rails (``reconciler.safety``) under the
trusted policy; ``execute`` runs a reviewed plan and refuses one the rails
refuse, whoever calls it. The CLI is option parsing, these two calls and
rendering::

    async with ApiClient(api_key=key) as api:
        reviewed = await review(load(["integrations.yaml"]), api, policy=policy)
        reviewed.raise_if_unsafe()
        result = await execute(reviewed, api)
        result.raise_for_failures()

See docs/design.md ("Safety rails", "Saved plans").
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from reconciler import planfile
from reconciler.adoption import Baseline, adopt
from reconciler.api import IntegrationsApi
from reconciler.applier import apply_plan
from reconciler.environments import check_environment, check_key_kind
from reconciler.errors import (
    ConfigError,
    ManifestError,
    Refusal,
    RefusalKind,
    StalePlanError,
    UnsafePlanError,
)
from reconciler.exporter import Export, export_manifest
from reconciler.listing import listing_warnings
from reconciler.models import Desired, RemoteIntegration
from reconciler.plan import Action, Plan, Target, Targeting
from reconciler.planner import plan as make_plan
from reconciler.policy import DEFAULT_POLICY, Policy
from reconciler.provider_checks import catalogue_warnings, provider_problems
from reconciler.results import ActionResult, ApplyResult
from reconciler.safety import policy_warnings, refusals, with_refusals
from reconciler.secrets import redact_key
from reconciler.slugs import entry_sources, located, unknown_slug_warnings
from reconciler.targeting import Selection


@dataclass(frozen=True)
class Review:
    """A plan ready to show and, if the rails allow it, to execute.

    ``plan`` carries the policy's warnings and the refusals among its
    warnings, so that every format shows them; ``refusals`` says why the
    plan must not run (empty when it may). ``desired`` holds the resolved
    secrets the actions send: a review is for this process, never saved as
    is (``save`` writes the secret-free saved-plan file).
    """

    plan: Plan
    desired: Desired = field(repr=False)
    target: Target
    policy: Policy
    refusals: tuple[Refusal, ...] = ()
    force: bool = False
    rotate_secrets: bool = False
    targets: tuple[str, ...] = ()
    key_digest: str = field(default="", repr=False)

    @property
    def has_changes(self) -> bool:
        return self.plan.has_changes

    @property
    def safe(self) -> bool:
        return not self.refusals

    def raise_if_unsafe(self) -> None:
        """Raise ``UnsafePlanError`` (exit 3) when the rails refuse the plan."""
        if self.refusals:
            raise UnsafePlanError(self.refusals)


async def review(
    desired: Desired,
    api: IntegrationsApi,
    *,
    policy: Policy = DEFAULT_POLICY,
    saved: planfile.SavedPlan | None = None,
    force: bool = False,
    rotate_secrets: bool = False,
    environment: str | None = None,
    targets: Sequence[str] = (),
    baseline: Baseline | None = None,
) -> Review:
    """Plan ``desired`` against what ``api`` lists, under ``policy``.

    ``environment`` is the WorkOS environment the caller targets: it must be
    the manifest's ``settings.environment`` (and the policy's, if it names
    one). With ``saved`` (``planfile.read``), the result is exactly the saved
    plan's actions, or ``StalePlanError`` if anything it was made from
    changed. ``force`` lifts the delete threshold only; ``rotate_secrets``
    sends every managed client secret (a saved plan's own setting wins).
    ``targets`` (``SLUG[/OWNERSHIP]`` globs, ``reconciler.targeting``) makes a
    partial plan: only the selected integrations are acted on; a pattern that
    selects nothing is a ``ConfigError``. A saved plan keeps its own targets.
    With ``baseline`` (``reconciler.adoption.read_baseline``: the base branch's
    manifests), unchanged entries it does not list are shown as adopted.
    """
    check_environment(desired.settings.environment, environment, policy.environment)
    check_key_kind(desired.settings.api_key_kind, policy.api_key_kind, api.api_key)
    if saved is not None:
        if rotate_secrets and not saved.rotate_secrets:
            raise ConfigError(
                "the saved plan was made without --rotate-secrets: make the plan again with it"
            )
        rotate_secrets = saved.rotate_secrets
        if targets:
            raise ConfigError(
                "--target can't be used with a saved plan: it applies the targets it was made with"
            )
        targets = saved.targets
    selection = Selection.parse(targets) if targets else None
    remote = await api.list_integrations()
    rejected = provider_problems(desired, remote)
    if rejected:
        raise ManifestError(rejected)
    result = _plan(desired, remote, rotate_secrets, selection)
    if saved is not None:
        result = planfile.verify(
            saved,
            desired,
            remote,
            result,
            api_url=api.base_url,
            api_key=api.api_key,
            policy=policy,
        )
    if baseline is not None:
        result = adopt(result, baseline)
    refused = refusals(result, desired.settings, policy=policy, force=force)
    warnings = [
        *listing_warnings(remote),
        *catalogue_warnings(desired, remote),
        *policy_warnings(desired.settings, policy),
        *unknown_slug_warnings(desired, (r.slug for r in remote)),
    ]
    return Review(
        plan=with_refusals(result, [*warnings, *refused]),
        desired=desired,
        target=Target(api.base_url, redact_key(api.api_key), desired.files, policy.name),
        policy=policy,
        refusals=tuple(refused),
        force=force,
        rotate_secrets=rotate_secrets,
        targets=tuple(targets),
        key_digest=_key_digest(api),
    )


def _plan(
    desired: Desired,
    remote: Sequence[RemoteIntegration],
    rotate_secrets: bool,
    selection: Selection | None,
) -> Plan:
    if selection is None:
        return make_plan(desired, remote, rotate_secrets=rotate_secrets)
    selection.check_matches(
        [*(i.identity for i in desired.integrations), *(r.identity for r in remote)]
    )
    result = make_plan(desired, remote, rotate_secrets=rotate_secrets, selects=selection.selects)
    skipped = result.targeting.skipped if result.targeting is not None else ()
    patterns = tuple(p.text for p in selection.patterns)
    return replace(result, targeting=Targeting(patterns, skipped))


def save(reviewed: Review, api: IntegrationsApi, *, no_secrets: bool = False) -> str:
    """The saved-plan file's text for ``reviewed`` (bound to ``api``'s key and the policy);
    manifest paths are recorded relative to the current directory, where ``apply --plan``
    looks for them. ``no_secrets``: the plan was made without secrets (never applied)."""
    _check_destination(reviewed, api)
    return planfile.dump(
        reviewed.plan,
        reviewed.desired,
        api_url=api.base_url,
        api_key=api.api_key,
        policy=reviewed.policy,
        rotate_secrets=reviewed.rotate_secrets,
        no_secrets=no_secrets,
        targets=reviewed.targets,
    )


async def execute(
    reviewed: Review,
    api: IntegrationsApi,
    *,
    concurrency: int = 4,
    on_start: Callable[[Action], None] | None = None,
    on_result: Callable[[ActionResult], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> ApplyResult:
    """Run the reviewed plan through ``api``; refuse it if the rails do.

    The rails are checked again here, from the plan itself, so that no
    caller can skip them (a review edited after the fact included); the
    review must be made against the same API and key. ``on_start`` and
    ``on_result`` hear of each action; ``stop`` is asked before each starts
    (see ``reconciler.applier.apply_plan``). Failures are in the result:
    ``raise_for_failures()`` turns them into ``ApplyFailedError``. A 404 to an action
    the manifest asked for is reported at the entry's ``file:line:col``.
    """
    _check_destination(reviewed, api)
    if not (reviewed.plan.secrets_compared and reviewed.desired.secrets_resolved):
        message = (
            "this plan was made without secrets (--no-secrets): it can be shown, not "
            "applied; plan again without --no-secrets"
        )
        raise UnsafePlanError([Refusal(RefusalKind.NO_SECRETS, (), message)])
    refused = refusals(
        reviewed.plan, reviewed.desired.settings, policy=reviewed.policy, force=reviewed.force
    )
    if refused:
        raise UnsafePlanError(refused)
    sources = entry_sources(reviewed.desired)

    def heard(result: ActionResult) -> None:
        if on_result is not None:
            on_result(located(result, sources))

    outcome = await apply_plan(
        reviewed.plan,
        api,
        secrets=reviewed.desired.secrets(),
        concurrency=concurrency,
        on_start=on_start,
        on_result=heard,
        stop=stop,
    )
    return replace(outcome, results=tuple(located(r, sources) for r in outcome.results))


async def snapshot(
    api: IntegrationsApi,
    *,
    schema: str | None = None,
    ignore: Sequence[str] = (),
    policy: Policy = DEFAULT_POLICY,
) -> Export:
    """Every remote integration as a manifest (``reconciler.exporter``), to adopt them."""
    check_key_kind(None, policy.api_key_kind, api.api_key)
    remote = await api.list_integrations()
    exported = export_manifest(remote, schema=schema, ignore=list(ignore), policy=policy)
    noticed = listing_warnings(remote)
    return replace(exported, warnings=(*noticed, *exported.warnings)) if noticed else exported


def _key_digest(api: IntegrationsApi) -> str:
    return hmac.new(b"reconciler review", api.api_key.encode(), hashlib.sha256).hexdigest()


def _check_destination(reviewed: Review, api: IntegrationsApi) -> None:
    """A review runs only against the API and key it was made with."""
    if api.base_url != reviewed.target.api_url or not hmac.compare_digest(
        _key_digest(api), reviewed.key_digest
    ):
        raise StalePlanError(
            "this review was made against another API or with another API key: review again"
        )
