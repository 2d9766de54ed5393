"""Drawing a lifecycle as a Mermaid state diagram."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from modelyard.lifecycle._definition import Lifecycle

__all__ = ["render_mermaid"]

# Mermaid ends a label at ";" or a newline, and reads "#...;" as an entity code and ":" as the start
# of another label, so those characters are replaced in user-chosen guard names.
_UNSAFE = re.compile(r"[:;#\r\n]+")


def _label(text: str) -> str:
    return _UNSAFE.sub(" ", text).strip()


def render_mermaid(lifecycle: Lifecycle) -> str:
    """Render ``lifecycle`` as ``stateDiagram-v2`` source, one statement per line.

    Exclusive states get a note on the right naming where a displaced holder goes; protected
    states a note on the left."""
    lines = ["stateDiagram-v2", "    direction LR", f"    [*] --> {lifecycle.initial}"]
    for transition in lifecycle.transitions:
        edge = f"    {transition.source} --> {transition.target}"
        label = _label(transition.label())
        lines.append(f"{edge} : {label}" if label else edge)
    for state, displaced_to in lifecycle.exclusive.items():
        lines.append(
            f"    note right of {state} : exclusive, a displaced holder moves to {displaced_to}"
        )
    lines.extend(
        f"    note left of {state} : protected, changes are countersigned"
        for state in sorted(lifecycle.protected)
    )
    if lifecycle.exclusive:
        lines.append("    classDef exclusive stroke-width:3px")
        lines.append(f"    class {','.join(lifecycle.exclusive)} exclusive")
    return "\n".join(lines)
