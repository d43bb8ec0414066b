"""The built-in provider catalogue the emulator serves.

The real catalogue is WorkOS's; this fixed one decides which slugs the
emulator treats as built-in (no ``custom_provider``, only the config keys a
provider declares: none for most). The manifest side keeps the same slugs and
config fields as plain data (``reconciler.manifest.builtins``), so that the
tool does not depend on the emulator; a test checks they agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BuiltinProvider:
    """A provider WorkOS defines: its scopes, and the config keys it accepts (often none)."""

    slug: str
    name: str
    scopes: tuple[str, ...]
    config_fields: tuple[str, ...] = field(default=())


BUILTIN_PROVIDERS: dict[str, BuiltinProvider] = {
    p.slug: p
    for p in (
        BuiltinProvider("asana", "Asana", ("default",)),
        BuiltinProvider("box", "Box", ("root_readonly",)),
        BuiltinProvider("dropbox", "Dropbox", ("files.metadata.read", "account_info.read")),
        BuiltinProvider("github", "GitHub", ("repo", "read:user")),
        BuiltinProvider("gitlab", "GitLab", ("read_user", "read_api")),
        BuiltinProvider("google", "Google", ("openid", "email", "profile")),
        BuiltinProvider("hubspot", "HubSpot", ("crm.objects.contacts.read",)),
        BuiltinProvider("intercom", "Intercom", ("read_users",)),
        BuiltinProvider("jira", "Jira", ("read:jira-work", "read:jira-user")),
        BuiltinProvider("linear", "Linear", ("read",)),
        BuiltinProvider("microsoft", "Microsoft", ("openid", "offline_access", "User.Read")),
        BuiltinProvider("notion", "Notion", ("read_content",)),
        BuiltinProvider("salesforce", "Salesforce", ("api", "refresh_token")),
        BuiltinProvider("slack", "Slack", ("channels:read", "users:read")),
        BuiltinProvider("snowflake", "Snowflake", ("session:role-any",), ("account",)),
        BuiltinProvider("zendesk", "Zendesk", ("read",)),
    )
}
