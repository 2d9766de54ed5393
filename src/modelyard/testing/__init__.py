"""Public test support for people who extend or embed modelyard.

* :class:`StoreConformance`: the pytest suite a storage backend must pass (needs pytest).
* :class:`FakeClock`: a controllable clock for registry and lifecycle tests.

>>> from modelyard.testing import FakeClock
>>> clock = FakeClock()
>>> first = clock.now()
>>> _ = clock.advance(seconds=5)
>>> (clock.now() - first).total_seconds()
5.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import modelyard._internal.public as _public
from modelyard.testing._clock import FakeClock

if TYPE_CHECKING:
    from modelyard.testing._store_conformance import StoreConformance

__all__ = ["FakeClock", "StoreConformance"]

_public.publish(__name__, globals(), __all__)


def __getattr__(name: str) -> Any:
    # The conformance suite imports pytest; load it only when asked for.
    if name == "StoreConformance":
        from modelyard.testing._store_conformance import StoreConformance

        _public.publish(__name__, {name: StoreConformance}, [name])
        return StoreConformance
    raise AttributeError(f"module 'modelyard.testing' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
