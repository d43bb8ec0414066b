"""The built-in providers the tool knows, as plain data: each slug and its config fields.

A custom provider may not shadow one of these slugs, and an integration of one
may send only the config keys it declares (an empty tuple: none at all). The
API documents both rules ("A custom provider slug cannot shadow an existing
global provider slug"; "Only fields the built-in provider declares are
accepted"), so ``validate`` refuses what the API would refuse. The real
catalogue is WorkOS's: a slug missing here is not refused, it is trusted to
the remote (``reconciler.provider_checks``). The emulator keeps its own
catalogue (``reconciler.emulator.providers``); a test checks the two agree.
"""

from __future__ import annotations

BUILTIN_CONFIG_FIELDS: dict[str, tuple[str, ...]] = {
    "asana": (),
    "box": (),
    "dropbox": (),
    "github": (),
    "gitlab": (),
    "google": (),
    "hubspot": (),
    "intercom": (),
    "jira": (),
    "linear": (),
    "microsoft": (),
    "notion": (),
    "salesforce": (),
    "slack": (),
    "snowflake": ("account",),
    "zendesk": (),
}
"""Each built-in slug and the config keys it declares."""

BUILTIN_SLUGS: frozenset[str] = frozenset(BUILTIN_CONFIG_FIELDS)
