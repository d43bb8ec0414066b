"""How to bring back an integration a failed replace left deleted, from the output alone.

The integration is written as a complete manifest entry from the plan's
snapshot (``action.remote``): every field, the custom provider's definition
included, a client secret as an ``${env:...}`` reference (never a value: the
API never returns one, and the manifest's may be another).
"""

from __future__ import annotations

from reconciler.exporter import manifest_entry
from reconciler.plan import Action
from reconciler.results import LeftState, Recovery

GONE = (LeftState.DELETED, LeftState.UNKNOWN)


def recovery_for(action: Action, state: LeftState | None) -> Recovery | None:
    """The recovery of a replace that may have left ``action``'s integration deleted."""
    if state not in GONE or action.remote is None:
        return None
    entry, variable = manifest_entry(action.remote)
    name = str(action.identity)
    how = (
        f"{name} was deleted and may not exist any more (run plan to see). To create it "
        "again as it was (every field the manifest leaves out included), put this entry in "
        f"the manifest in place of the one for {name}, then run apply; to keep the "
        "manifest's changes, copy only the fields it leaves out"
    )
    if variable is not None:
        ending = f" (it ends …{variable.last4})" if variable.last4 else ""
        how += f". Set {variable.name} to its client secret first{ending}"
    return Recovery(entry, how + ".")
