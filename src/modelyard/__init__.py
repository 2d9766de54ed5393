"""modelyard: MLOps building blocks with no server.

Versioned, content-addressed artifacts; a pluggable model registry; vectorised drift statistics;
guarded, audited lifecycle state machines.

>>> import modelyard as my
>>> yard = my.open_yard("memory://doctest-init")
>>> sorted(name for name in ("artifacts", "registry") if hasattr(yard, name))
['artifacts', 'registry']

Importing modelyard is light: the public names below are resolved on first use, and pandas, scipy,
scikit-learn and pyarrow are imported only by the code that needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import modelyard._internal.public as _public
from modelyard._internal import roots as _roots
from modelyard._version import __version__

# Every gc, whichever object runs it, must keep what the registry refers to. Declared here by
# dotted path (the registry is imported only when a gc runs), so that any process that imports
# anything from modelyard consults it. See modelyard.artifacts.register_root_source.
_roots.declare("registry", "modelyard.registry._references:registry_roots")
del _roots

if TYPE_CHECKING:
    from modelyard import artifacts, drift, errors, lifecycle, registry, storage, testing
    from modelyard._live_checkpoint import YardCheckpoint
    from modelyard.errors import (
        ConcurrentModificationError,
        IntegrityError,
        KeyExistsError,
        ModelyardError,
        NotFoundError,
        TransitionRejected,
    )
    from modelyard.storage import Store, open_store
    from modelyard.yard import Yard, open_yard

__all__ = [
    "ConcurrentModificationError",
    "IntegrityError",
    "KeyExistsError",
    "ModelyardError",
    "NotFoundError",
    "Store",
    "TransitionRejected",
    "Yard",
    "YardCheckpoint",
    "__version__",
    "artifacts",
    "drift",
    "errors",
    "lifecycle",
    "open_store",
    "open_yard",
    "registry",
    "storage",
    "testing",
]

_SUBPACKAGES = {"artifacts", "drift", "errors", "lifecycle", "registry", "storage", "testing"}
_LAZY = {
    "ConcurrentModificationError": "modelyard.errors",
    "IntegrityError": "modelyard.errors",
    "KeyExistsError": "modelyard.errors",
    "ModelyardError": "modelyard.errors",
    "NotFoundError": "modelyard.errors",
    "TransitionRejected": "modelyard.errors",
    "Store": "modelyard.storage",
    "open_store": "modelyard.storage",
    "Yard": "modelyard.yard",
    "open_yard": "modelyard.yard",
    "YardCheckpoint": "modelyard._live_checkpoint",
}


def __getattr__(name: str) -> Any:
    # Resolving on first use keeps `import modelyard` fast for services that embed it.
    if name in _SUBPACKAGES:
        module = importlib.import_module(f"modelyard.{name}")
    elif name in _LAZY:
        module = getattr(importlib.import_module(_LAZY[name]), name)
        _public.publish(__name__, {name: module}, [name])
    else:
        raise AttributeError(f"module 'modelyard' has no attribute {name!r}")
    globals()[name] = module
    return module


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
