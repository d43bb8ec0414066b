"""Reference resolution (reconciler/manifest/references.py) at its edges: the API key is
never a value, a client_secret reference is judged by the policy before anything is read,
and a secret file is opened without following a symlink swapped in since its check."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from reconciler.manifest.references import RefusedValue, Resolver
from reconciler.policy import DEFAULT_POLICY
from reconciler.secrets import REDACTED, Redactor, Secret

API_KEY = "sk_test_references-key-Ab12"


def _resolver(**environ: str) -> Resolver:
    return Resolver(DEFAULT_POLICY, {"WORKOS_API_KEY": API_KEY, **environ}, Redactor())


def test_a_secret_equal_to_the_api_key_is_refused_and_never_registered() -> None:
    resolver = _resolver(RECONCILER_SECRET=f" {API_KEY}\n")
    assert resolver.secret_env("RECONCILER_SECRET") == (
        None,
        "the value is the API key (WORKOS_API_KEY); refused",
    )
    assert resolver.redactor.empty


def test_a_plain_value_equal_to_the_api_key_is_refused() -> None:
    resolver = _resolver(RECONCILER_URL=API_KEY)
    with pytest.raises(RefusedValue, match=r"the value is the API key \(WORKOS_API_KEY\)"):
        resolver.plain_env("RECONCILER_URL")


def test_any_other_value_is_resolved_and_registered_with_the_redactor() -> None:
    resolver = _resolver(
        RECONCILER_SECRET="canary-resolved-Zz91", RECONCILER_URL="https://a.example"
    )
    assert resolver.secret_env("RECONCILER_SECRET") == (Secret("canary-resolved-Zz91"), None)
    assert resolver.plain_env("RECONCILER_URL") == "https://a.example"
    assert resolver.redactor.redact("canary-resolved-Zz91 https://a.example") == (
        f"{REDACTED} {REDACTED}"
    )


def test_without_an_api_key_nothing_is_taken_for_it() -> None:
    resolver = Resolver(DEFAULT_POLICY, {"RECONCILER_SECRET": "canary-1234"}, Redactor())
    assert resolver.secret_env("RECONCILER_SECRET") == (Secret("canary-1234"), None)


def test_an_env_client_secret_reference_is_judged_by_its_variable_name() -> None:
    resolver = _resolver()
    assert resolver.secret_refusal("${env:RECONCILER_GITHUB}", "m.yaml") is None
    assert resolver.secret_refusal("${env:GITHUB_TOKEN}", "m.yaml") == (
        "is not allowed by the default policy (allowed: RECONCILER_*)"
    )
    assert resolver.secret_refusal("${env:WORKOS_API_KEY}", "m.yaml") == (
        "is never resolvable: WORKOS_API_KEY is the API key"
    )
    assert resolver.secret_refusal("literal-secret", "m.yaml") is None  # validation's to say


def test_a_file_client_secret_reference_is_judged_by_its_path(tmp_path: Path) -> None:
    manifest = str(tmp_path / "manifests" / "m.yaml")
    resolver = _resolver()
    assert resolver.secret_refusal("${file:secrets/token.txt}", manifest) is None
    refusal = resolver.secret_refusal("${file:../token.txt}", manifest)
    assert refusal is not None and refusal.startswith("is not allowed by the default policy")


def test_a_secret_file_swapped_for_a_symlink_after_its_check_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "elsewhere.txt").write_text("canary-elsewhere-Qq11\n")
    link = tmp_path / "token.txt"
    link.symlink_to(tmp_path / "elsewhere.txt")
    # the path checked was a plain file; a symlink stands there when it is opened
    monkeypatch.setattr(Resolver, "_real", staticmethod(lambda _m, _t: (str(link), "")))
    resolver = _resolver()
    secret, why = resolver.secret_file(str(tmp_path / "m.yaml"), "token.txt")
    assert secret is None
    assert why == f"cannot read: {os.strerror(errno.ELOOP)}"  # the last component is a link
    assert resolver.redactor.empty
