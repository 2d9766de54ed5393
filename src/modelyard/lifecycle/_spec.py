"""A guard's stored form: the name it is registered under and the parameters that rebuild it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelyard.errors import InputError
from modelyard.lifecycle._values import FrozenMap, freeze_json, thaw_json

__all__ = ["GuardSpec", "check_guard_name"]

# Built-in names are single words ("require_tags"); custom names are dotted ("acme.min_rows"), so
# a custom guard can never take a name a later built-in needs.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*\Z")


def check_guard_name(name: object, *, what: str = "guard name") -> str:
    """Return ``name`` if it is a guard name (words of letters, digits, ``_`` or ``-``, joined by
    dots); else raise ``InputError``."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError(
            f"{what} must be a dotted label such as 'acme.min_rows' (letters, digits, '_' and '-', "
            f"words joined by '.'), got {name!r}",
            what=what,
        )
    return name


@dataclass(frozen=True)
class GuardSpec:
    """What a lifecycle stores for a guard: its registered ``name`` and JSON-able ``params``.

    :func:`~modelyard.lifecycle.guard_from_spec` turns a spec back into a guard. ``params`` is
    deep-frozen, so a spec is immutable and hashable.

    >>> from modelyard.lifecycle import metric_at_least
    >>> spec = metric_at_least("auc", 0.8).spec
    >>> spec.to_dict()
    {'name': 'metric_at_least', 'params': {'metric': 'auc', 'threshold': 0.8}}
    >>> GuardSpec.from_dict(spec.to_dict()) == spec
    True
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=FrozenMap)

    def __post_init__(self) -> None:
        check_guard_name(self.name)
        if not isinstance(self.params, Mapping):
            raise InputError(
                f"the parameters of guard {self.name!r} must be a mapping, got {self.params!r}",
                what="params",
            )
        object.__setattr__(
            self, "params", freeze_json(self.params, what=f"parameters of guard {self.name!r}")
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (plain dicts and lists) that :meth:`from_dict` turns back."""
        return {"name": self.name, "params": thaw_json(self.params)}

    @classmethod
    def from_dict(cls, data: object) -> GuardSpec:
        """Rebuild a spec from :meth:`to_dict` output; anything else raises ``InputError``."""
        if not isinstance(data, Mapping):
            raise InputError(
                f"a stored guard must be a mapping with 'name' and 'params', got {data!r}"
            )
        unknown = sorted(set(data) - {"name", "params"})
        if "name" not in data or unknown:
            raise InputError(
                "a stored guard needs the key 'name' (and may have 'params'); got keys "
                f"{sorted(data)}"
            )
        return cls(data["name"], data.get("params", {}))
