"""The slugs of the built-in providers, as plain data.

These are the slugs a custom provider may not shadow: a manifest that gives a
``custom_provider`` for one of them is refused. The manifest side needs only
the slugs, not the catalogue (names, scopes, config fields), which belongs to
the emulator; a test checks that the two agree.
"""

from __future__ import annotations

BUILTIN_SLUGS: frozenset[str] = frozenset(
    {
        "asana",
        "box",
        "dropbox",
        "github",
        "gitlab",
        "google",
        "hubspot",
        "intercom",
        "jira",
        "linear",
        "microsoft",
        "notion",
        "salesforce",
        "slack",
        "snowflake",
        "zendesk",
    }
)
