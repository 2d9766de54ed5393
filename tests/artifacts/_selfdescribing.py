"""A small self-describing class, importable by path so that get() can find it again."""

from __future__ import annotations

import json
from typing import ClassVar


class Histogram:
    media_type: ClassVar[str] = "application/vnd.test.histogram+json"

    def __init__(self, edges: list[float], counts: list[int]) -> None:
        self.edges = edges
        self.counts = counts

    def to_bytes(self) -> bytes:
        return json.dumps({"edges": self.edges, "counts": self.counts}).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Histogram:
        body = json.loads(data)
        return cls(body["edges"], body["counts"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Histogram) and (self.edges, self.counts) == (
            other.edges,
            other.counts,
        )

    __hash__ = None  # type: ignore[assignment]


class NotReally:
    """Has the attribute names, but ``from_bytes`` is not callable."""

    media_type: ClassVar[str] = "x/y"
    from_bytes = None
    to_bytes = None
