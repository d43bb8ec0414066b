"""Subsets: plan and apply only the integrations some patterns select (``--target``).

A pattern is ``SLUG`` or ``SLUG/OWNERSHIP``; the slug part may use globs
(``*``, ``?``, ``[...]``, case-sensitive, as ``settings.ignore``), the
ownership part is ``user``, ``organization`` or a glob. The rules, so that a
subset never does more than the whole would:

- the remote is still listed whole, and the manifest planned whole first
  (its problems are problems whatever the subset);
- only targeted integrations are created, updated, replaced or deleted
  (prune included); the others are listed as skipped when they have changes;
- the delete threshold's denominator stays the whole plan's managed count,
  its numerator the targeted deletes and replaces;
- a pattern that selects nothing is an error, not an empty plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from reconciler.errors import ConfigError
from reconciler.identity import OWNERSHIPS, Identity


@dataclass(frozen=True)
class Pattern:
    """One ``--target``: a slug glob and an ownership glob."""

    text: str
    slug: str
    ownership: str

    @classmethod
    def parse(cls, text: str) -> Pattern:
        slug, _, ownership = text.partition("/")
        ownership = ownership or "*"
        if not slug or "/" in ownership:
            raise ConfigError(f"--target {text!r}: expected SLUG or SLUG/OWNERSHIP")
        if not any(fnmatchcase(o, ownership) for o in OWNERSHIPS):
            raise ConfigError(
                f"--target {text!r}: ownership must be {' or '.join(OWNERSHIPS)} (or a glob)"
            )
        return cls(text, slug, ownership)

    def selects(self, identity: Identity) -> bool:
        return fnmatchcase(identity[0], self.slug) and fnmatchcase(identity[1], self.ownership)


@dataclass(frozen=True)
class Selection:
    """The parsed patterns; ``selects`` is true for an identity any of them matches."""

    patterns: tuple[Pattern, ...]

    @classmethod
    def parse(cls, texts: Sequence[str]) -> Selection:
        return cls(tuple(Pattern.parse(text) for text in dict.fromkeys(texts)))

    def selects(self, identity: Identity) -> bool:
        return any(pattern.selects(identity) for pattern in self.patterns)

    def check_matches(self, identities: Iterable[Identity]) -> None:
        """Refuse a pattern that selects no integration of the manifest or the remote."""
        known = list(identities)
        unmatched = [p.text for p in self.patterns if not any(p.selects(i) for i in known)]
        if unmatched:
            names = ", ".join(repr(text) for text in unmatched)
            raise ConfigError(
                f"--target {names} matches no integration in the manifest or the remote: "
                "check the slug (and ownership)"
            )
