"""The API's operations on top of the store: create, get, update, delete, list, seed.

Every operation runs in one store transaction, so a rule that fails changes
nothing. The rules that need no stored state are in ``rules``; answers are
plain dicts in the API's JSON shape (``render``).

An integration with credentials the API does not list (one made in the
dashboard; seeded with ``credentials: {type: unsupported}``) is invisible:
list leaves it out, GET, PUT and DELETE answer 404, and a create of the same
identity answers 409.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from pydantic import SecretStr, ValidationError

from reconciler.emulator.problems import ApiProblem, conflict, field_problems, invalid, not_found
from reconciler.emulator.providers import BUILTIN_PROVIDERS
from reconciler.emulator.render import render
from reconciler.emulator.rules import (
    builtin_provider_only,
    check_auth_methods,
    check_credentials,
    check_definition_urls,
    custom_provider_config,
    merge_definition,
    not_for_builtin,
    with_credentials,
)
from reconciler.emulator.schemas import (
    CreateIntegrationBody,
    CredentialsInput,
    CustomProviderInput,
    UpdateIntegrationBody,
)
from reconciler.emulator.store import IntegrationData, Store, StoredIntegration

UNSUPPORTED = "unsupported"
"""The credentials type of a hidden integration (stored, never shown)."""


class SeedError(ValueError):
    """A seed entry is invalid; the message names its index."""


class Service:
    """The Data Integrations API over a ``Store``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- create -------------------------------------------------------------------------

    def create(
        self, body: CreateIntegrationBody, idempotency_key: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Create an integration; returns the object and whether it is a replay.

        With an idempotency key, the first answer is saved in the same
        transaction and replayed for the same body; another body is a 409.
        """
        with self.store.transaction():
            if idempotency_key is None:
                return self._create(body), False
            fingerprint = self.store.fingerprint(canonical_body(body))
            saved = self.store.saved_response(idempotency_key)
            if saved is not None:
                if saved.fingerprint != fingerprint:
                    raise conflict(
                        "idempotency_key_reused",
                        "This Idempotency-Key was already used with a different request body.",
                    )
                return saved.body, True
            created = self._create(body)
            self.store.save_response(idempotency_key, fingerprint, 201, created)
            return created, False

    def _create(self, body: CreateIntegrationBody, *, hidden: bool = False) -> dict[str, Any]:
        """Create from ``body``; ``hidden``: with credentials the API does not list."""
        slug, ownership = body.provider, body.ownership
        existing_definition = (
            None if slug in BUILTIN_PROVIDERS else self.store.custom_provider(slug)
        )
        definition = self._creation_definition(body, existing_definition)
        check_auth_methods(body.auth_methods)
        if definition is not None:
            custom_provider_config(body.config)
            check_definition_urls(definition, self._auth_methods(slug, body.auth_methods))
        oauth = "oauth" in body.auth_methods
        if not hidden:
            check_credentials(body.credentials, oauth=oauth)
        if self.store.integration(slug, ownership) is not None:
            raise conflict(
                "integration_exists",
                f"A data integration for {slug} with {ownership} ownership already exists.",
            )
        if definition is not None and definition != existing_definition:
            self.store.put_custom_provider(slug, definition)
            if existing_definition is not None:
                self.store.touch_slug(slug)
        data = IntegrationData(
            slug=slug,
            ownership=ownership,
            description=body.description,
            enabled=body.enabled,
            scopes=body.scopes,
            auth_methods=list(body.auth_methods),
            config=dict(body.config),
        )
        if hidden:
            data = replace(data, credentials_type=UNSUPPORTED)
        elif body.credentials is not None:
            data = with_credentials(data, body.credentials)
        return render(self.store.insert(data), definition)

    def _creation_definition(
        self, body: CreateIntegrationBody, existing: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The custom-provider definition a create ends with (None for a built-in)."""
        slug = body.provider
        builtin = BUILTIN_PROVIDERS.get(slug)
        if builtin is not None:
            builtin_provider_only(body, builtin)
            return None
        if existing is None and body.custom_provider is None:
            raise not_found(
                f"No built-in or custom provider named {slug}; "
                "pass custom_provider to define a custom provider."
            )
        return merge_definition(existing, body.custom_provider)

    # -- read ---------------------------------------------------------------------------

    def get(self, slug: str, ownership: str) -> dict[str, Any]:
        stored = self._find(slug, ownership)
        return render(stored, self._definition_of(stored))

    def list(
        self,
        *,
        limit: int,
        order: str = "desc",
        after: str | None = None,
        before: str | None = None,
        ownership: str | None = None,
    ) -> dict[str, Any]:
        """A page of integrations in the list envelope with its cursors.

        ``order=normal`` is "descending with reversed cursor semantics where
        ``before`` fetches older records and ``after`` fetches newer records"
        (the SDK): ``desc`` with the two cursors' names swapped, in the query
        and in ``list_metadata`` alike.
        """
        normal = order == "normal"
        if normal:
            after, before = before, after
        rows, more = self.store.page(
            ascending=order == "asc",
            limit=limit,
            after=after,
            before=before,
            ownership=ownership,
            exclude_credentials_type=UNSUPPORTED,
        )
        if before is not None and after is None:
            cursor_before = rows[0].id if more and rows else None
            cursor_after = rows[-1].id if rows else None
        else:
            cursor_before = rows[0].id if after is not None and rows else None
            cursor_after = rows[-1].id if more and rows else None
        if normal:
            cursor_after, cursor_before = cursor_before, cursor_after
        definitions: dict[str, dict[str, Any] | None] = {}
        data = []
        for row in rows:
            if row.data.slug not in definitions:
                definitions[row.data.slug] = self._definition_of(row)
            data.append(render(row, definitions[row.data.slug]))
        return {
            "object": "list",
            "data": data,
            "list_metadata": {"before": cursor_before, "after": cursor_after},
        }

    # -- update -------------------------------------------------------------------------

    def update(self, slug: str, ownership: str, body: UpdateIntegrationBody) -> dict[str, Any]:
        """Apply the fields present in ``body``; everything else stays."""
        with self.store.transaction():
            stored = self._find(slug, ownership)
            given = body.model_fields_set
            data = stored.data
            if "description" in given:
                data = replace(data, description=body.description)
            if "enabled" in given:
                data = replace(data, enabled=body.enabled)
            if "scopes" in given:
                data = replace(data, scopes=body.scopes)
            if "credentials" in given:
                data = self._updated_credentials(data, body.credentials)
            definition = self._definition_of(stored)
            if "custom_provider" in given:
                definition = self._updated_definition(stored, definition, body.custom_provider)
            return render(self.store.save(stored, data), definition)

    def _updated_credentials(
        self, data: IntegrationData, credentials: CredentialsInput | None
    ) -> IntegrationData:
        oauth = "oauth" in data.auth_methods
        if credentials is None:
            if oauth:
                raise invalid(
                    "credentials",
                    "required",
                    "an OAuth integration's credentials cannot be removed",
                )
            return data
        check_credentials(credentials, oauth=oauth)
        return with_credentials(data, credentials)

    def _updated_definition(
        self,
        stored: StoredIntegration,
        definition: dict[str, Any] | None,
        patch: CustomProviderInput | None,
    ) -> dict[str, Any] | None:
        slug = stored.data.slug
        if definition is None:
            if patch is None:
                return None
            raise not_for_builtin(slug)
        if patch is None:
            raise invalid(
                "custom_provider", "required", "a custom provider's definition cannot be removed"
            )
        merged = merge_definition(definition, patch)
        check_definition_urls(merged, self._auth_methods(slug))
        if merged != definition:
            self.store.put_custom_provider(slug, merged)
            self.store.touch_slug(slug)
        return merged

    # -- delete -------------------------------------------------------------------------

    def delete(self, slug: str, ownership: str) -> None:
        """Delete if present (idempotent); the last of a custom slug takes its definition.

        A hidden integration is not this API's to delete: 404.
        """
        with self.store.transaction():
            stored = self.store.integration(slug, ownership)
            if stored is not None and stored.data.credentials_type == UNSUPPORTED:
                raise _not_found(slug, ownership)
            deleted = self.store.delete(slug, ownership)
            if deleted and slug not in BUILTIN_PROVIDERS and self.store.count(slug) == 0:
                self.store.delete_custom_provider(slug)

    # -- seed ---------------------------------------------------------------------------

    def seed(self, entries: Sequence[object]) -> int:
        """Create the given create bodies; returns how many were created.

        An entry whose (slug, ownership) was already stored before seeding is
        left alone, so restarting on the same ``--db`` with the same seed works.
        An entry with ``credentials: {type: unsupported}`` is stored hidden
        (credentials the API does not list: see the module doc).
        """
        existing = self.store.identities()
        created = 0
        for index, entry in enumerate(entries):
            hidden = _hidden_entry(entry)
            if hidden:
                assert isinstance(entry, dict)
                entry = {key: value for key, value in entry.items() if key != "credentials"}
            try:
                body = CreateIntegrationBody.model_validate(entry)
            except ValidationError as error:
                problems = field_problems(error.errors(include_input=False, include_url=False))
                detail = "; ".join(f"{p.field}: {p.message}" for p in problems)
                raise SeedError(f"seed[{index}]: {detail}") from None
            if (body.provider, body.ownership) in existing:
                continue
            try:
                with self.store.transaction():
                    self._create(body, hidden=hidden)
            except ApiProblem as problem:
                raise SeedError(
                    f"seed[{index}] ({body.provider}, {body.ownership}): {problem.message}"
                ) from None
            created += 1
        return created

    # -- helpers ------------------------------------------------------------------------

    def _find(self, slug: str, ownership: str) -> StoredIntegration:
        """The integration at (slug, ownership) as the API sees it: a hidden one is 404."""
        stored = self.store.integration(slug, ownership)
        if stored is None or stored.data.credentials_type == UNSUPPORTED:
            raise _not_found(slug, ownership)
        return stored

    def _auth_methods(self, slug: str, extra: Sequence[str] = ()) -> set[str]:
        """Every auth method of the integrations of ``slug`` (and ``extra``): what its
        shared definition must serve."""
        methods = set(extra)
        for ownership in ("user", "organization"):
            stored = self.store.integration(slug, ownership)
            if stored is not None:
                methods.update(stored.data.auth_methods)
        return methods

    def _definition_of(self, stored: StoredIntegration) -> dict[str, Any] | None:
        if stored.data.slug in BUILTIN_PROVIDERS:
            return None
        return self.store.custom_provider(stored.data.slug)


def _not_found(slug: str, ownership: str) -> ApiProblem:
    path = f"/data-integrations/{slug}" + ("/organization" if ownership != "user" else "")
    return not_found(f"No data integration at {path}.")


def _hidden_entry(entry: object) -> bool:
    """A seed entry whose credentials are ``{"type": "unsupported"}``."""
    return isinstance(entry, dict) and entry.get("credentials") == {"type": UNSUPPORTED}


def canonical_body(body: CreateIntegrationBody) -> str:
    """The body as canonical JSON, secrets revealed: only ever fed to a keyed digest."""

    def reveal(value: object) -> object:
        if isinstance(value, SecretStr):
            return value.get_secret_value()
        raise TypeError(type(value).__name__)

    return json.dumps(
        body.model_dump(exclude_unset=True),
        sort_keys=True,
        separators=(",", ":"),
        default=reveal,
    )
