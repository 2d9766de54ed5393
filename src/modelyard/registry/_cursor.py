"""The feed's cursor: where a reader of the feed stands, as an opaque, versioned string.

A cursor holds a *floor* (an event time) and the markers already delivered at or after it. The
next read lists the markers from the floor on and delivers those it has not delivered, so a
marker that lands a little late (its writer was slow between the event and its marker) is still
delivered once, and nothing is delivered twice. After a read the floor moves to ``now - lookback``:
a marker landing later than that behind its event is left to reconciliation (``watch``). The
delivered markers kept are at most ``MAX_SEEN``: past that the floor rises to drop the oldest, so
a cursor stays small whatever the traffic.

The string is ``feed1.`` and the base64 of a compressed JSON document with a ``schema_version``;
it means the same in every process and every later release.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import dataclass

from modelyard._internal.canonical import canonical_json
from modelyard.errors import InputError

__all__ = ["MAX_SEEN", "Cursor"]

SCHEMA_VERSION = 1
MAX_SEEN = 10_000
_PREFIX = "feed1."


@dataclass(frozen=True)
class Cursor:
    """``floor``: where reading starts, None for the start of the feed: an event time (as in
    ``marker_at``), or a marker name when the oldest delivered markers were dropped (marker
    names begin with their time, so both compare as text); ``seen``: names of the markers
    delivered at or after the floor."""

    floor: str | None
    seen: frozenset[str] = frozenset()

    def after(self, delivered: list[str], floor: str | None) -> Cursor:
        """This cursor once ``delivered`` have been delivered and the floor moved to ``floor``
        (never backwards)."""
        if self.floor is not None and (floor is None or floor < self.floor):
            floor = self.floor
        seen = sorted(name for name in self.seen.union(delivered) if floor is None or name >= floor)
        if len(seen) > MAX_SEEN:
            seen = seen[-MAX_SEEN:]
            floor = seen[0]
        return Cursor(floor, frozenset(seen))

    def encode(self) -> str:
        doc = {"schema_version": SCHEMA_VERSION, "floor": self.floor, "seen": sorted(self.seen)}
        packed = zlib.compress(canonical_json(doc), 9)
        return _PREFIX + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, text: object) -> Cursor:
        """The cursor ``text`` encodes; :class:`~modelyard.errors.InputError` if it is none.

        >>> Cursor.decode(Cursor("20261202T024853.000000Z").encode()).floor
        '20261202T024853.000000Z'
        """
        if not isinstance(text, str) or not text.startswith(_PREFIX):
            raise _bad(text, "it does not start with 'feed1.'")
        body = text[len(_PREFIX) :]
        try:
            doc = json.loads(
                zlib.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            )
        except (ValueError, binascii.Error, zlib.error):
            raise _bad(text, "it is damaged or truncated") from None
        if not isinstance(doc, dict):
            raise _bad(text, "it is damaged")
        schema = doc.get("schema_version")
        if isinstance(schema, int) and schema > SCHEMA_VERSION:
            raise InputError(
                f"the feed cursor was made by a newer modelyard (cursor schema_version {schema}; "
                f"this version reads up to {SCHEMA_VERSION}): upgrade modelyard to resume from it",
                schema_version=schema,
            )
        floor, seen = doc.get("floor"), doc.get("seen")
        if (
            schema != SCHEMA_VERSION
            or not (floor is None or isinstance(floor, str))
            or not isinstance(seen, list)
            or not all(isinstance(name, str) for name in seen)
        ):
            raise _bad(text, "it is damaged")
        return cls(floor, frozenset(seen))


def _bad(text: object, problem: str) -> InputError:
    shown = text[:40] + "..." if isinstance(text, str) and len(text) > 40 else text
    return InputError(
        f"invalid feed cursor {shown!r}: {problem}. Pass a cursor returned by "
        "registry.events() or a watched event's .cursor, or None to read from the start",
        cursor=text,
    )
