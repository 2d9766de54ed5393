"""Where the registry keeps things in the store. Every key the registry uses is built here.

::

    models/_index/<name>                     the model is listed (written before its first event)
    models/_names/<folded name>              who owns a name under case folding (see _names.py)
    models/<name>/log/<seq:012d>.json        event <seq>, written with an exclusive create
    models/<name>/snapshots/<seq:012d>.json  a cached fold of events 1..<seq>
"""

from __future__ import annotations

import re

__all__ = [
    "INDEX",
    "NAMES",
    "ROOT",
    "log_key",
    "log_prefix",
    "seq_of",
    "snapshot_key",
    "snapshot_prefix",
]

ROOT = "models"
INDEX = f"{ROOT}/_index/"
NAMES = f"{ROOT}/_names/"

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
