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
    feed/<YYYY-MM-DD>/<HH>/<MM>/<at>_<seq:012d>_<name>
                                             a marker: event <seq> of <name>, committed at <at>
                                             (empty; the event itself stays in the log)
    catalog/catalog.json                     a summary of every model's versions for search,
                                             rebuilt from the logs at will (_catalog.py)

Each top-level prefix is written by a different kind of change, so that a store's own permissions
(an S3 bucket policy) can give each to a different role: CI writes ``models/`` and ``feed/`` (and
the artifacts), readers that search ``catalog/`` (an index: a reader that may not write keeps its
copy in memory), a release role also ``stages/production/``, an administrator ``governance/``.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

__all__ = [
    "CATALOG",
    "GOVERNANCE_LOG",
    "FEED",
    "INDEX",
    "NAMES",
    "ROOT",
    "feed_key",
    "feed_prefix",
    "log_key",
    "marker_at",
    "marker_name",
    "parse_marker",
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
FEED = "feed/"
CATALOG = "catalog/catalog.json"

_SEQ = re.compile(r"^(\d{12})\.json$")
# Model names never hold a "/" and the time and the number have fixed widths with no "_", so a
# marker's name splits unambiguously at its first two "_" even when the model name has some.
_MARKER = re.compile(r"(\d{8}T\d{6}\.\d{6}Z)_(\d{12})_([A-Za-z0-9][A-Za-z0-9._-]*)")
_AT = "%Y%m%dT%H%M%S.%fZ"


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

    >>> countersign_key("production", "churn", 7, "sha256:" + "ab" * 32)[:43]
    'stages/production/churn/000000000007-ababab'
    """
    return f"{STAGES}{stage}/{name}/{seq:012d}-{digest.removeprefix('sha256:')}.json"


_COUNTERSIGN = re.compile(r"^(\d{12})-([0-9a-f]{64})\.json$")


def countersign_of(key: str, prefix: str) -> tuple[int, str] | None:
    """``(seq, digest)`` of a countersign key under ``prefix``, or None for another shape."""
    match = _COUNTERSIGN.match(key[len(prefix) :]) if key.startswith(prefix) else None
    return (int(match.group(1)), "sha256:" + match.group(2)) if match else None


def marker_at(at: datetime) -> str:
    """An event time as fixed-width text that sorts in time order (UTC, microseconds).

    >>> marker_at(datetime(2026, 12, 2, 2, 48, 53, 120, tzinfo=timezone.utc))
    '20261202T024853.000120Z'
    """
    return at.astimezone(timezone.utc).strftime(_AT)


def marker_name(at: datetime, seq: int, name: str) -> str:
    """The last segment of the feed marker of event ``seq`` of model ``name``."""
    return f"{marker_at(at)}_{seq:012d}_{name}"


def feed_prefix(at: datetime, level: str) -> str:
    """The folder of the feed holding the markers of ``at``'s ``"day"``, ``"hour"`` or
    ``"minute"``.

    >>> feed_prefix(datetime(2026, 12, 2, 2, 48, tzinfo=timezone.utc), "minute")
    'feed/2026-12-02/02/48/'
    """
    fmt = {"day": "%Y-%m-%d/", "hour": "%Y-%m-%d/%H/", "minute": "%Y-%m-%d/%H/%M/"}[level]
    return FEED + at.astimezone(timezone.utc).strftime(fmt)


def feed_key(at: datetime, seq: int, name: str) -> str:
    """The key of the feed marker of event ``seq`` of model ``name``, committed at ``at``.

    >>> feed_key(datetime(2026, 12, 2, 2, 48, 53, tzinfo=timezone.utc), 3, "churn_v2")
    'feed/2026-12-02/02/48/20261202T024853.000000Z_000000000003_churn_v2'
    """
    return feed_prefix(at, "minute") + marker_name(at, seq, name)


def parse_marker(key: str) -> tuple[str, int, str] | None:
    """``(at, seq, name)`` of a feed marker key (``at`` as in :func:`marker_at`), or None for a
    key of another shape or in the wrong folder.

    >>> parse_marker("feed/2026-12-02/02/48/20261202T024853.000000Z_000000000003_churn_v2")
    ('20261202T024853.000000Z', 3, 'churn_v2')
    >>> parse_marker("feed/2026-12-02/02/49/20261202T024853.000000Z_000000000003_churn") is None
    True
    """
    folder, _, last = key.rpartition("/")
    match = _MARKER.fullmatch(last)
    if match is None:
        return None
    at = match.group(1)
    # Built from the text rather than with strptime, which costs more than the rest of a feed
    # read; datetime() still refuses a time that does not exist.
    try:
        datetime(
            int(at[:4]), int(at[4:6]), int(at[6:8]), int(at[9:11]), int(at[11:13]), int(at[13:15])
        )
    except ValueError:
        return None
    if folder != f"{FEED}{at[:4]}-{at[4:6]}-{at[6:8]}/{at[9:11]}/{at[11:13]}":
        return None
    return at, int(match.group(2)), match.group(3)
