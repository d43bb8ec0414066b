"""Which WorkOS environment a run targets, checked against the one the manifest names.

One API key is one WorkOS environment. A manifest may say which one it is for
(``settings.environment``); plan and apply then run only when the command
names the same one (``--environment NAME`` or ``RECONCILER_ENVIRONMENT``),
so that production's manifest is never applied with staging's key by a
mistyped ``-f``, or the reverse.
"""

from __future__ import annotations

from reconciler.errors import ConfigError

ENVIRONMENT_VARIABLE = "RECONCILER_ENVIRONMENT"


def check_environment(manifest_env: str | None, selected: str | None) -> None:
    """Refuse a run whose target environment is not the manifest's.

    ``manifest_env`` is ``settings.environment``; ``selected`` is what the
    command names (an empty string counts as none). A command may name an
    environment for a manifest that names none: the check is then the
    user's, as before environments existed.
    """
    selected = selected or None
    if manifest_env is None:
        return
    if selected is None:
        raise ConfigError(
            f"the manifest names environment {manifest_env!r}: pass --environment "
            f"{manifest_env} or set {ENVIRONMENT_VARIABLE}={manifest_env} to confirm the target"
        )
    if selected != manifest_env:
        raise ConfigError(
            f"this manifest is for environment {manifest_env!r} but the command targets "
            f"{selected!r}; check the -f paths and --environment / {ENVIRONMENT_VARIABLE}"
        )
