"""Versioned, content-addressed artifacts with lineage.

An :class:`ArtifactStore` keeps objects (data frames, arrays, models, files, directories, JSON
values, anything with a codec) in any :class:`~modelyard.storage.Store`. Content is stored once
under its sha256 digest, hashed while it is written and verified on every read; a frozen
:class:`Manifest` records what it is and what it was made from, and the artifact's id is the sha256
of that manifest.

>>> from modelyard.artifacts import ArtifactStore
>>> from modelyard.storage import MemoryStore
>>> artifacts = ArtifactStore(MemoryStore())
>>> data = artifacts.put({"rows": [1, 2, 3]}, name="toy-data")
>>> model = artifacts.put(b"weights", name="toy-model", parents=[data])
>>> artifacts.get("toy-data@latest")
{'rows': [1, 2, 3]}
>>> [ref.name for ref in artifacts.lineage(model).ancestors]
['toy-data']

See ``docs/artifacts.md`` for codecs (and which types ``get`` may load), integrity, lineage,
``verify`` and ``gc`` (and its root sources, which keep what the registry refers to).
"""

import modelyard._internal.public as _public
from modelyard.artifacts._code import CodeRecord
from modelyard.artifacts._codec import Codec, Content, Encoded, Payload, SelfDescribing
from modelyard.artifacts._manifest import SCHEMA_VERSION, Environment, Manifest, Pack, TreeEntry
from modelyard.artifacts._progress import Progress
from modelyard.artifacts._references import ReferenceGuard
from modelyard.artifacts._refs import ArtifactRef
from modelyard.artifacts._registry import (
    ENTRY_POINT_GROUP,
    CodecPluginWarning,
    register_codec,
    registered_codecs,
)
from modelyard.artifacts._reports import GcReport, Lineage, Problem, VerifyReport
from modelyard.artifacts._roots import (
    RootSource,
    register_root_source,
    registered_root_sources,
    unregister_root_source,
)
from modelyard.artifacts._store import ArtifactStore
from modelyard.artifacts._transfer import CopyReport
from modelyard.artifacts._types import TYPE_ENTRY_POINT_GROUP, register_type, registered_types

__all__ = [
    "ENTRY_POINT_GROUP",
    "SCHEMA_VERSION",
    "TYPE_ENTRY_POINT_GROUP",
    "ArtifactRef",
    "ArtifactStore",
    "CodeRecord",
    "Codec",
    "CodecPluginWarning",
    "Content",
    "CopyReport",
    "Encoded",
    "Environment",
    "GcReport",
    "Lineage",
    "Manifest",
    "Pack",
    "Payload",
    "Problem",
    "Progress",
    "ReferenceGuard",
    "RootSource",
    "SelfDescribing",
    "TreeEntry",
    "VerifyReport",
    "register_codec",
    "register_root_source",
    "register_type",
    "registered_codecs",
    "registered_root_sources",
    "registered_types",
    "unregister_root_source",
]

_public.publish(__name__, globals(), __all__)
