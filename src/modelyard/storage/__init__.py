"""Storage: the :class:`Store` protocol (the SPI a backend implements) and the built-in stores.

>>> from modelyard.storage import open_store
>>> store = open_store("memory://storage-doctest")
>>> store.create("greeting", b"hello")
>>> store.read("greeting"), store.exists("missing")
(b'hello', False)

:class:`CountingStore` and :class:`LatencyStore` wrap any store to count its requests or to add
a round trip's wait to each, which tells what an operation will cost on a remote bucket.

See ``docs/storage.md`` for writing your own store and checking it with
:class:`modelyard.testing.StoreConformance`.
"""

import modelyard._internal.public as _public
from modelyard.storage._counting import CountingStore
from modelyard.storage._fsspec import FsspecStore
from modelyard.storage._keys import validate_key, validate_prefix
from modelyard.storage._latency import LatencyStore
from modelyard.storage._local import LocalStore
from modelyard.storage._memory import MemoryStore
from modelyard.storage._open import (
    ENTRY_POINT_GROUP,
    StoreFactory,
    StorePluginWarning,
    open_store,
    register_store,
    registered_stores,
)
from modelyard.storage._protocol import (
    CreateBatch,
    Data,
    StagedWrite,
    Store,
    StoreCapabilities,
    SupportsCreateBatch,
    SupportsStaging,
    SupportsVolatileWrite,
    iter_chunks,
    join_chunks,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "CountingStore",
    "CreateBatch",
    "Data",
    "FsspecStore",
    "LatencyStore",
    "LocalStore",
    "MemoryStore",
    "StagedWrite",
    "Store",
    "StoreCapabilities",
    "StoreFactory",
    "StorePluginWarning",
    "SupportsCreateBatch",
    "SupportsStaging",
    "SupportsVolatileWrite",
    "iter_chunks",
    "join_chunks",
    "open_store",
    "register_store",
    "registered_stores",
    "validate_key",
    "validate_prefix",
]

_public.publish(__name__, globals(), __all__)
