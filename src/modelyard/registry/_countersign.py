"""Countersigns: what lets a store's permissions decide who may change a protected stage.

A lifecycle may name *protected* stages (``Lifecycle(..., protected={"production"})``). Every event
that changes who holds a protected stage (a transition into or out of it, a rollback, a displaced
holder) is written together with a countersign under a prefix of its own::

    stages/<stage>/<model>/<seq>-<sha256 of the event's bytes>.json
    {"schema_version": 1, "kind": "stage.countersign", "model": "churn", "model_id": "...",
     "seq": 12, "event": "sha256:...", "stage": "production", "holders": [[7, "<artifact id>"]]}

The writer creates the countersign first, then the event. Readers check both ways:

* an event read after the state it follows that changes who holds a protected stage must have its
  countersign, naming the holders after it (versions and artifacts);
* a state read from a snapshot (which any writer of ``models/`` could have forged) must have the
  holders named by the newest countersign whose event is in the log.

So a principal that may write ``models/`` but not ``stages/production/`` (an S3 bucket policy,
see docs/trust.md) cannot make a version the production holder, or swap the artifact behind it:
every modelyard reader refuses the model with :class:`~modelyard.errors.IntegrityError` instead.
It can still write other events (and damage the log, which any writer of ``models/`` can); what
the prefix protects is who holds the stage.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from modelyard._internal.canonical import canonical_json
from modelyard.errors import IntegrityError, KeyExistsError, NotFoundError
from modelyard.registry._layout import countersign_key, countersign_of, countersign_prefix
from modelyard.registry._state import ModelState
from modelyard.storage import Store

__all__ = ["COUNTERSIGN_SCHEMA_VERSION", "changed", "check_event", "check_newest", "sign"]

COUNTERSIGN_SCHEMA_VERSION = 1

Holders = tuple[tuple[int, str], ...]


def holders(state: ModelState, stage: str) -> Holders:
    """The live versions in ``stage`` with their artifacts, lowest version first."""
    return tuple((number, state.versions[number].artifact) for number in state.holders(stage))


def changed(before: ModelState, after: ModelState, stages: Iterable[str]) -> list[str]:
    """The stages of ``stages`` whose holders differ between the two states."""
    return [s for s in sorted(stages) if holders(before, s) != holders(after, s)]


def _record(state: ModelState, stage: str, seq: int, digest: str) -> bytes:
    return canonical_json(
        {
            "schema_version": COUNTERSIGN_SCHEMA_VERSION,
            "kind": "stage.countersign",
            "model": state.name,
            "model_id": state.model_id,
            "seq": seq,
            "event": digest,
            "stage": stage,
            "holders": [list(h) for h in holders(state, stage)],
        }
    )


def sign(store: Store, after: ModelState, stage: str, seq: int, digest: str) -> None:
    """Create the countersign of event ``seq`` (bytes hashing to ``digest``), which leads to
    ``after``. Idempotent: the same event always has the same countersign."""
    key = countersign_key(stage, after.name, seq, digest)
    try:
        store.create(key, _record(after, stage, seq, digest))
    except KeyExistsError:
        pass


def check_event(store: Store, after: ModelState, stage: str, seq: int, digest: str) -> None:
    """Refuse event ``seq`` (leading to ``after``) unless its countersign names the holders of
    ``stage`` after it."""
    key = countersign_key(stage, after.name, seq, digest)
    try:
        raw = store.read(key)
    except NotFoundError:
        raise _unsigned(after.name, stage, seq, key) from None
    _check_record(raw, key, after, stage)


def check_newest(
    store: Store, state: ModelState, stage: str, digest_at: Callable[[int], str | None]
) -> None:
    """Refuse ``state`` unless its holders of ``stage`` are those of the newest countersign
    whose event is in the log (``digest_at(seq)``: the digest of stored event ``seq``)."""
    prefix = countersign_prefix(stage, state.name)
    signs = sorted(
        (found for key in store.list(prefix) if (found := countersign_of(key, prefix))),
        reverse=True,
    )
    for seq, digest in signs:
        if seq > state.head or digest_at(seq) != digest:
            continue  # left by a writer that lost the race for that seq, or not yet its event
        key = countersign_key(stage, state.name, seq, digest)
        _check_record(store.read(key), key, state, stage)
        return
    if holders(state, stage):
        raise IntegrityError(
            f"model {state.name!r} has versions in the protected stage {stage!r}, but no "
            f"countersign under {prefix}: a writer without write access to that prefix put "
            "them there. registry.verify() lists every problem",
            model=state.name,
            stage=stage,
            problem="unsigned",
        )


def _check_record(raw: bytes, key: str, state: ModelState, stage: str) -> None:
    try:
        doc: Any = json.loads(raw)
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or doc.get("kind") != "stage.countersign":
        raise IntegrityError(f"{key} is not a countersign", key=key, problem="unsigned")
    schema = doc.get("schema_version")
    if isinstance(schema, int) and not isinstance(schema, bool) and schema > 1:
        raise IntegrityError(
            f"{key} was written by a newer modelyard (countersign schema_version {schema}): "
            "upgrade modelyard to read this model",
            key=key,
            problem="newer",
        )
    expected = [list(h) for h in holders(state, stage)]
    stated = (doc.get("model"), doc.get("stage"), doc.get("holders"))
    if stated != (state.name, stage, expected):
        raise IntegrityError(
            f"model {state.name!r}: the holders of protected stage {stage!r} are "
            f"{_shown(expected)}, but the countersign {key} says {_shown(doc.get('holders'))}: "
            "the log or a snapshot was changed by a writer without write access to "
            f"{countersign_prefix(stage, state.name)}. registry.verify() lists every problem",
            key=key,
            model=state.name,
            stage=stage,
            problem="unsigned",
        )


def _shown(holders_: Any) -> str:
    if not isinstance(holders_, list) or not holders_:
        return "nobody"
    return ", ".join(f"version {h[0]}" if isinstance(h, list) and h else repr(h) for h in holders_)


def _unsigned(name: str, stage: str, seq: int, key: str) -> IntegrityError:
    return IntegrityError(
        f"event {seq} of model {name!r} changes who holds the protected stage {stage!r}, but "
        f"has no countersign ({key}): it was written by a writer without write access to "
        f"{countersign_prefix(stage, name)}, or by a modelyard that did not know the stage is "
        "protected. registry.verify() lists every problem",
        key=key,
        model=name,
        seq=seq,
        stage=stage,
        problem="unsigned",
    )
