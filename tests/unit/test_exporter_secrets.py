"""Tests of the exporter's secrets: credentials refer to variables, variable names, the
secret note, and variables the policy refuses."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.exporter import (
    Export,
    SecretVariable,
    export_manifest,
    secret_note,
    secret_variable_name,
)
from reconciler.models import RemoteIntegration
from reconciler.policy import DEFAULT_POLICY, Policy
from tests.support.exporter import SECRETS, _entry
from tests.support.factories import custom_credentials, remote


def test_credentials_refer_to_variables_and_never_hold_a_secret(
    remote_state: list[RemoteIntegration],
) -> None:
    export = export_manifest(remote_state)
    assert _entry(export, "github")["credentials"] == {
        "type": "custom",
        "client_id": "Iv1.8a61f9b3a7aba766",
        "client_secret": "${env:RECONCILER_GITHUB_CLIENT_SECRET}",
    }
    assert export.secret_variables == (
        "RECONCILER_ACME_CRM_CLIENT_SECRET",
        "RECONCILER_ACME_CRM_2_CLIENT_SECRET",
        "RECONCILER_GITHUB_CLIENT_SECRET",
        "RECONCILER_NOTION_CLIENT_SECRET",
    )
    assert _entry(export, "acme_crm")["credentials"]["client_secret"] == (
        "${env:RECONCILER_ACME_CRM_2_CLIENT_SECRET}"
    )
    note = secret_note(export)
    for secret in SECRETS.values():
        assert secret not in export.text
        assert secret not in note


@pytest.mark.parametrize(
    ("slug", "ownership", "name"),
    [
        ("github", "user", "RECONCILER_GITHUB_CLIENT_SECRET"),
        ("github", "organization", "RECONCILER_GITHUB_ORGANIZATION_CLIENT_SECRET"),
        ("acme-crm", "user", "RECONCILER_ACME_CRM_CLIENT_SECRET"),
        ("acme--crm_", "user", "RECONCILER_ACME_CRM_CLIENT_SECRET"),
        ("1password", "user", "RECONCILER_1PASSWORD_CLIENT_SECRET"),
    ],
)
def test_variable_name_derivation(slug: str, ownership: Any, name: str) -> None:
    assert secret_variable_name(slug, ownership) == name


def test_variable_names_are_unique() -> None:
    colliding = [
        remote(slug, ownership, credentials=custom_credentials(f"{slug}-app", "1234"))
        for slug, ownership in (
            ("github", "organization"),
            ("github-organization", "user"),
            ("acme-crm", "user"),
            ("acme_crm", "user"),
            ("acme--crm", "user"),
        )
    ]
    names = export_manifest(colliding).secret_variables
    assert names == (
        "RECONCILER_ACME_CRM_CLIENT_SECRET",
        "RECONCILER_ACME_CRM_2_CLIENT_SECRET",
        "RECONCILER_ACME_CRM_3_CLIENT_SECRET",
        "RECONCILER_GITHUB_ORGANIZATION_CLIENT_SECRET",
        "RECONCILER_GITHUB_ORGANIZATION_2_CLIENT_SECRET",
    )


def test_secret_note_names_each_variable_its_integration_and_last_4(
    remote_state: list[RemoteIntegration],
) -> None:
    note = secret_note(export_manifest(remote_state))
    lines = note.splitlines()
    assert note.endswith("\n")
    assert any(
        "RECONCILER_GITHUB_CLIENT_SECRET" in line and "github (user)" in line and "…b7c4" in line
        for line in lines
    )
    assert any(
        "RECONCILER_ACME_CRM_2_CLIENT_SECRET" in line
        and "acme_crm (user)" in line
        and "…0042" in line
        for line in lines
    )
    unknown = Export(
        "version: 1\n", (SecretVariable("RECONCILER_X_CLIENT_SECRET", "x", "user", None),)
    )
    assert "last 4 unknown" in secret_note(unknown)


def test_variables_the_policy_refuses_are_warned_about(
    remote_state: list[RemoteIntegration],
) -> None:
    strict = Policy(path="ci/policy.yaml", env_globs=("RECONCILER_GITHUB_*",))
    warnings = export_manifest(remote_state, policy=strict).warnings
    refused = [w for w in warnings if "is not allowed by policy ci/policy.yaml" in w]
    assert len(refused) == 3
    assert any(
        w.startswith("acme_crm (user): ${env:RECONCILER_ACME_CRM_2_CLIENT_SECRET} is not allowed")
        for w in refused
    )
    assert not any("RECONCILER_GITHUB_CLIENT_SECRET" in w for w in warnings)
    assert export_manifest(remote_state, policy=DEFAULT_POLICY).warnings == ()
