"""Process entry points for the evidence tests (module level, so ``spawn`` can import them)."""

from __future__ import annotations

from typing import Any

from modelyard.yard import open_yard


def attach(path: str, ref: str, payload: bytes, kind: str, note: str, out: Any) -> None:
    yard = open_yard(path, actor="worker")
    evidence = yard.registry.attach(ref, payload, kind=kind, note=note)
    out.put(evidence.artifact)


def read_evidence(path: str, ref: str, out: Any) -> None:
    yard = open_yard(path, actor="reader")
    out.put([(e.kind, e.artifact, e.actor, e.note) for e in yard.registry.evidence(ref)])
