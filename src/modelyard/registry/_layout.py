"""Where the registry keeps things in the store. Every key the registry uses is built here.

::

    models/_index/<name>                     the model is listed (written before its first event)
    models/_names/<folded name>              who owns a name under case folding (see _names.py)
    models/<name>/log/<seq:012d>.json        event <seq>, written with an exclusive create
    models/<name>/snapshots/<seq:012d>.json  a cached fold of events 1..<seq>
    governance/log/<seq:012d>.json           yard-wide governance event <seq>: stored lifecycles,
                                             roles, approvals of lifecycle changes (_governance.py)
    stages/<stage>/<name>/<seq:012d>-<hex>.json
                                             the countersign of event <seq> of model <name>
                                             (sha256 <hex>), which changed who holds protected
                                             stage <stage> (_countersign.py)

Each top-level prefix is written by a different kind of change, so that a store's own permissions
(an S3 bucket policy) can give each to a different role: CI writes ``models/`` (and ``artifacts/``),
a release role also ``stages/production/``, an administrator ``governance/``.
"""

from __future__ import annotations

import re

__all__ = [
    "GOVERNANCE_LOG",
    "INDEX",
    "NAMES",
    "ROOT",
    "log_key",
    "log_prefix",
    "countersign_key",
    "countersign_of",
    "countersign_prefix",
    "governance_key",
    "seq_of",
    "snapshot_key",
    "snapshot_prefix",
]

ROOT = "models"
INDEX = f"{ROOT}/_index/"
NAMES = f"{ROOT}/_names/"

GOVERNANCE_LOG = "governance/log/"
STAGES = "stages/"

_SEQ = re.compile(r"^(\d{12})\.json$")


def log_prefix(name: str) -> str:
    return f"{ROOT}/{name}/log/"


def log_key(name: str, seq: int) -> str:
    """The key of event ``seq`` of model ``name``.

    >>> log_key("churn", 3)
    'models/churn/log/000000000003.json'
    """
    return f"{ROOT}/{name}/log/{seq:012d}.json"


def snapshot_prefix(name: str) -> str:
    return f"{ROOT}/{name}/snapshots/"


def snapshot_key(name: str, seq: int) -> str:
    return f"{ROOT}/{name}/snapshots/{seq:012d}.json"


def seq_of(key: str, prefix: str) -> int | None:
    """The sequence number a log or snapshot key names, or None for a key of another shape.

    >>> seq_of("models/churn/log/000000000003.json", "models/churn/log/")
    3
    >>> seq_of("models/churn/log/notes.txt", "models/churn/log/") is None
    True
    """
    match = _SEQ.match(key[len(prefix) :]) if key.startswith(prefix) else None
    return int(match.group(1)) if match else None


def governance_key(seq: int) -> str:
    """The key of governance event ``seq``.

    >>> governance_key(2)
    'governance/log/000000000002.json'
    """
    return f"{GOVERNANCE_LOG}{seq:012d}.json"


def countersign_prefix(stage: str, name: str) -> str:
    return f"{STAGES}{stage}/{name}/"


def countersign_key(stage: str, name: str, seq: int, digest: str) -> str:
    """The key of the countersign of event ``seq`` (whose bytes hash to ``digest``) of ``name``.

    The digest is part of the key, so a countersign left by a writer that lost the race for
    ``seq`` never stands in the way of the event that won it.

    >>> countersign_key("production", "churn", 7, "sha256:" + "ab" * 32)[:44]
    'stages/production/churn/000000000007-ababab'
    """
    return f"{STAGES}{stage}/{name}/{seq:012d}-{digest.removeprefix('sha256:')}.json"


_COUNTERSIGN = re.compile(r"^(\d{12})-([0-9a-f]{64})\.json$")


def countersign_of(key: str, prefix: str) -> tuple[int, str] | None:
    """``(seq, digest)`` of a countersign key under ``prefix``, or None for another shape."""
    match = _COUNTERSIGN.match(key[len(prefix) :]) if key.startswith(prefix) else None
    return (int(match.group(1)), "sha256:" + match.group(2)) if match else None
