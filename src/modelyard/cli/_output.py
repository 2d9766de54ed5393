"""What a command prints: a table or text for people, one JSON document for scripts.

Every command hands :meth:`Output.emit` the data of its JSON shape and, for people, a rendering
of it. With ``--json`` stdout holds exactly that one document (an object), so a script can parse
it whatever happened: on failure it is ``{"error": {...}}`` (see :mod:`modelyard.cli._failures`).
Messages for people (warnings, progress, errors) go to stderr, never into the JSON.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

__all__ = ["Output", "table", "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """Plain JSON types for what the library returns (mappings, tuples, datetimes, enums)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [to_jsonable(v) for v in items]
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return isoformat()
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_jsonable(to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    model_dump = getattr(value, "model_dump", None)  # pydantic records
    if callable(model_dump):
        return to_jsonable(model_dump(mode="json"))
    item = getattr(value, "item", None)  # NumPy scalars
    if callable(item):
        return to_jsonable(item())
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def table(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Rows as aligned columns under a header; ``(none)`` for no rows.

    >>> print(table([{"name": "churn", "versions": 3}, {"name": "fraud", "versions": 12}],
    ...             ["name", "versions"]))
    NAME   VERSIONS
    churn  3
    fraud  12
    """
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    if not cells:
        return "(none)"
    header = [c.upper() for c in columns]
    widths = [max(len(r[i]) for r in [header, *cells]) for i in range(len(columns))]
    lines = [
        "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *cells]
    ]
    return "\n".join(lines)


@dataclass
class Output:
    """Where a command's result goes, in the form asked for."""

    json: bool = False
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)

    def emit(self, data: Mapping[str, Any], human: str | Callable[[], str]) -> None:
        """Print ``data`` as JSON with ``--json``, else the human rendering (text or a thunk)."""
        if self.json:
            json.dump(to_jsonable(data), self.stdout, indent=2, sort_keys=False)
            self.stdout.write("\n")
        else:
            text = human() if callable(human) else human
            if text:
                self.stdout.write(text.rstrip("\n") + "\n")
        self.stdout.flush()

    def note(self, message: str) -> None:
        """A message for the person at the terminal (stderr), in both modes."""
        self.stderr.write(message.rstrip("\n") + "\n")
        self.stderr.flush()
