"""The built-in provider catalogue (shared by the loader and the emulator).

The real catalogue is WorkOS's; this fixed one is what the emulator serves and
what the loader uses to reject a custom provider that shadows a built-in slug.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BuiltinProvider:
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


def is_builtin(slug: str) -> bool:
    return slug in BUILTIN_PROVIDERS
