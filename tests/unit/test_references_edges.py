"""Reference resolution (reconciler/manifest/references.py) at its edges: the API key is
never a value, a client_secret reference is judged by the policy before anything is read,
and a secret file is opened without following a symlink swapped in since its check."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from reconciler.manifest.references import Reference, RefusedValue, Resolver
from reconciler.policy import DEFAULT_POLICY, Policy
from reconciler.secrets import REDACTED, Redactor, Secret

API_KEY = "sk_test_references-key-Ab12"


def _resolver(**environ: str) -> Resolver:
    return Resolver(DEFAULT_POLICY, {"WORKOS_API_KEY": API_KEY, **environ}, Redactor())


CONTAINS_KEY = "the value contains the API key (WORKOS_API_KEY); refused"


@pytest.mark.parametrize(
    "value",
    [f" {API_KEY}\n", f"KEY={API_KEY}\n", API_KEY.upper(), f"prefix-{API_KEY.lower()}-suffix"],
    ids=["equal", "inside-a-dotenv", "upper-cased", "lower-cased-inside"],
)
def test_a_secret_holding_the_api_key_is_refused_and_never_registered(value: str) -> None:
    resolver = _resolver(RECONCILER_SECRET=value)
    assert resolver.secret_env("RECONCILER_SECRET") == (None, CONTAINS_KEY)
    assert resolver.redactor.empty


@pytest.mark.parametrize("value", [API_KEY, f"https://a.example/?k={API_KEY.upper()}"])
def test_a_plain_variable_holding_the_api_key_is_refused(value: str) -> None:
    resolver = _resolver(RECONCILER_VAR_URL=value)
    with pytest.raises(RefusedValue, match=r"the value contains the API key \(WORKOS_API_KEY\)"):
        resolver.var("RECONCILER_VAR_URL")


def test_a_secret_is_registered_with_the_redactor_and_a_plain_variable_never() -> None:
    resolver = _resolver(
        RECONCILER_SECRET="canary-resolved-Zz91", RECONCILER_VAR_URL="https://a.example"
    )
    assert resolver.secret_env("RECONCILER_SECRET") == (Secret("canary-resolved-Zz91"), None)
    assert resolver.var("RECONCILER_VAR_URL") == "https://a.example"
    assert resolver.var("RECONCILER_VAR_UNSET") is None
    # a plain variable is printed like a literal: the output filter leaves it
    assert resolver.redactor.redact("canary-resolved-Zz91 https://a.example") == (
        f"{REDACTED} https://a.example"
    )


def test_without_an_api_key_nothing_is_taken_for_it() -> None:
    resolver = Resolver(DEFAULT_POLICY, {"RECONCILER_SECRET": "canary-1234"}, Redactor())
    assert resolver.secret_env("RECONCILER_SECRET") == (Secret("canary-1234"), None)


def test_a_secret_of_8_to_4096_characters_is_taken_and_no_other() -> None:
    resolver = _resolver(
        RECONCILER_7="a" * 5 + "Z7",
        RECONCILER_8="a" * 7 + "Z",
        RECONCILER_4096="a" * 4095 + "Z",
        RECONCILER_4097="a" * 4096 + "Z",
        RECONCILER_BLANK=" \n",
    )
    size = "a client secret must be 8 to 4096 characters long; refused"
    assert resolver.secret_env("RECONCILER_7") == (None, size)
    assert resolver.secret_env("RECONCILER_8") == (Secret("a" * 7 + "Z"), None)
    assert resolver.secret_env("RECONCILER_4096") == (Secret("a" * 4095 + "Z"), None)
    assert resolver.secret_env("RECONCILER_4097") == (None, size)
    assert resolver.secret_env("RECONCILER_BLANK") == (None, "the value is empty")


def test_an_env_client_secret_reference_is_judged_by_its_variable_name() -> None:
    resolver = _resolver()

    def refusal(written: str) -> str | None:
        reference = Reference.parse(written)
        assert reference is not None, written
        return resolver.secret_refusal(reference, "m.yaml")

    refused = "is not allowed by the default policy (references.env: RECONCILER_*)"
    assert refusal("${env:RECONCILER_GITHUB}") is None
    assert refusal("${env:GITHUB_TOKEN}") == refused
    assert refusal("${env:WORKOS_API_KEY}") == (
        "is never resolvable: WORKOS_API_KEY is the API key"
    )
    # every name goes through the allowlist first, whatever its shape
    assert refusal("${env:1PASSWORD_TOKEN}") == refused
    assert refusal("${env:deploy-token}") == refused
    assert refusal("${env:RECONCILER_deploy-token}") == (
        "is not a valid variable name (letters, digits and _, not starting with a digit)"
    )
    assert Reference.parse("literal-secret") is None  # validation's to say


def test_a_file_client_secret_reference_is_judged_by_its_path(tmp_path: Path) -> None:
    manifest = str(tmp_path / "manifests" / "m.yaml")
    beside = Reference.parse("${file:secrets/token.txt}")
    outside = Reference.parse("${file:../token.txt}")
    assert beside is not None and outside is not None
    # the default policy allows no file: one a pull request adds beside its manifest included
    resolver = _resolver()
    for reference in (beside, outside):
        assert resolver.secret_refusal(reference, manifest) == (
            "is not allowed by the default policy (references.files: no file; a policy file "
            "names the directories ${file:} may read)"
        )
    # a policy names the roots
    policy = Policy(path="policy.yaml", file_globs=("manifests/secrets/*",), root=str(tmp_path))
    resolver = Resolver(policy, {"WORKOS_API_KEY": API_KEY}, Redactor())
    assert resolver.secret_refusal(beside, manifest) is None
    refusal = resolver.secret_refusal(outside, manifest)
    assert refusal is not None and refusal.startswith("is not allowed by policy policy.yaml")


def test_a_secret_file_swapped_for_a_symlink_after_its_check_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "elsewhere.txt").write_text("canary-elsewhere-Qq11\n")
    link = tmp_path / "token.txt"
    link.symlink_to(tmp_path / "elsewhere.txt")
    # the path checked was a plain file; a symlink stands there when it is opened
    monkeypatch.setattr(Resolver, "_real", staticmethod(lambda _m, _t: str(link)))
    resolver = _resolver()
    secret, why = resolver.secret_file(str(tmp_path / "m.yaml"), "token.txt")
    assert secret is None
    assert why == f"cannot read: {os.strerror(errno.ELOOP)}"  # the last component is a link
    assert resolver.redactor.empty


def test_at_most_1000_distinct_client_secrets_are_taken_in_one_run() -> None:
    values = [f"canary-distinct-{i:04d}" for i in range(1001)]
    environ = {f"RECONCILER_{i}": value for i, value in enumerate(values)}
    resolver = _resolver(**environ, RECONCILER_AGAIN=values[0])
    taken = [resolver.secret_env(f"RECONCILER_{i}") for i in range(1000)]
    assert taken == [(Secret(value), None) for value in values[:1000]]
    assert resolver.secret_env("RECONCILER_1000") == (
        None,
        "more than 1000 distinct client secrets in one run; refused",
    )
    # a value already taken is not another secret, whatever variable holds it
    assert resolver.secret_env("RECONCILER_AGAIN") == (Secret(values[0]), None)
