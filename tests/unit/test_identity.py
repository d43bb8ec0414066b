"""``Identity``: how an integration is named, flipped, ordered and read from a body."""

from __future__ import annotations

from reconciler.identity import OWNERSHIPS, Identity
from reconciler.planner import plan
from tests.support.factories import desired, desired_state, remote


def test_str_is_slug_then_ownership_in_parentheses() -> None:
    assert str(Identity("github", "user")) == "github (user)"
    assert f"{Identity('acme-2', 'organization')}" == "acme-2 (organization)"


def test_it_equals_and_hashes_as_the_plain_pair() -> None:
    identity = Identity("slack", "organization")
    assert identity == ("slack", "organization")
    assert {("slack", "organization"): 1}[identity] == 1
    assert identity.slug == "slack" and identity.ownership == "organization"


def test_other_is_the_same_slug_under_the_other_ownership() -> None:
    assert Identity("acme", "user").other() == Identity("acme", "organization")
    assert Identity("acme", "organization").other() == Identity("acme", "user")
    assert Identity("acme", "user").other().other() == Identity("acme", "user")


def test_sort_key_orders_by_slug_then_user_before_organization() -> None:
    shuffled = [
        Identity("b", "user"),
        Identity("a", "organization"),
        Identity("b", "organization"),
        Identity("a", "user"),
    ]
    assert sorted(shuffled, key=Identity.sort_key) == [
        Identity("a", "user"),
        Identity("a", "organization"),
        Identity("b", "user"),
        Identity("b", "organization"),
    ]
    assert OWNERSHIPS == ("user", "organization")


def test_from_body_reads_the_provider_and_defaults_to_user() -> None:
    assert Identity.from_body({"provider": "github"}) == Identity("github", "user")
    assert Identity.from_body({"provider": "github", "ownership": "organization"}) == (
        "github",
        "organization",
    )
    assert Identity.from_body({"provider": "github", "ownership": "user"}).ownership == "user"


def test_the_plan_names_and_orders_by_identity() -> None:
    """The planner's identities are ``Identity`` objects, in ``sort_key`` order."""
    credentials = {"type": "organization"}
    wanted = [
        desired(slug="zeta", credentials=credentials),
        desired(slug="acme", ownership="organization", credentials=credentials),
    ]
    result = plan(desired_state(*wanted), [remote("acme"), remote("beta")])
    assert [str(i) for i in result.unmanaged] == ["acme (user)", "beta (user)"]
    assert all(isinstance(a.identity, Identity) for a in result.actions)
    assert [str(a.identity) for a in result.actions] == ["acme (organization)", "zeta (user)"]
