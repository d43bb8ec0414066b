"""Which WorkOS environment a run targets, checked against the one the manifest names,
and whether the API key is of the kind (live or test) the manifest or policy asks for.

One API key is one WorkOS environment. A manifest may say which one it is for
(``settings.environment``); plan and apply then run only when the command
names the same one (``--environment NAME`` or ``RECONCILER_ENVIRONMENT``),
so that production's manifest is never applied with staging's key by a
mistyped ``-f``, or the reverse.
"""

from __future__ import annotations

from reconciler.errors import ConfigError

ENVIRONMENT_VARIABLE = "RECONCILER_ENVIRONMENT"
KEY_PREFIXES = {"live": "sk_live_", "test": "sk_test_"}


def check_environment(
    manifest_env: str | None, selected: str | None, policy_env: str | None = None
) -> None:
    """Refuse a run whose target environment is not the manifest's.

    ``manifest_env`` is ``settings.environment``; ``selected`` is what the
    command names (an empty string counts as none); ``policy_env`` is the
    trusted policy's ``environment``, which selects the target when the
    command names none and must agree with it when it does. A command may
    name an environment for a manifest that names none: the check is then
    the user's, as before environments existed.
    """
    selected = selected or None
    if policy_env is not None:
        if selected is not None and selected != policy_env:
            raise ConfigError(
                f"the policy is for environment {policy_env!r} but the command targets "
                f"{selected!r}; check --policy and --environment / {ENVIRONMENT_VARIABLE}"
            )
        selected = policy_env
    if manifest_env is None:
        return
    if selected is None:
        raise ConfigError(
            f"the manifest names environment {manifest_env!r}: pass --environment "
            f"{manifest_env} or set {ENVIRONMENT_VARIABLE}={manifest_env} to confirm the target"
        )
    if selected != manifest_env:
        source = "the policy" if selected == policy_env else "the command"
        raise ConfigError(
            f"this manifest is for environment {manifest_env!r} but {source} targets "
            f"{selected!r}; check the -f paths and --environment / {ENVIRONMENT_VARIABLE}"
        )


def check_key_kind(manifest_kind: str | None, policy_kind: str | None, api_key: str) -> None:
    """Refuse a key of another kind than ``api_key_kind`` asks for (the policy's wins over
    the manifest's ``settings.api_key_kind``); no check when neither names one.

    Only the key's prefix is read, and only the prefix is named in the message.
    """
    wanted = policy_kind or manifest_kind
    if wanted is None:
        return
    source = (
        f"the policy's api_key_kind ({wanted})"
        if policy_kind
        else f"the manifest's settings.api_key_kind ({wanted})"
    )
    actual = next(
        (kind for kind, prefix in KEY_PREFIXES.items() if api_key.startswith(prefix)), None
    )
    if actual == wanted:
        return
    if actual is None:
        found = "WORKOS_API_KEY starts with neither sk_live_ nor sk_test_"
    else:
        found = f"WORKOS_API_KEY is a {actual} key ({KEY_PREFIXES[actual]}...)"
    raise ConfigError(
        f"{source} asks for a {wanted} key ({KEY_PREFIXES[wanted]}...), but {found}: "
        "check that the key is the right WorkOS environment's; nothing was sent"
    )
