"""Reading leases: who holds one, whether they are alive, and waiting for them to finish.

The protocol, and what makes a holder alive or dead, is described in ``_leases.py``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from modelyard._internal.canonical import loads
from modelyard._internal.clock import Clock
from modelyard.artifacts._layout import LeaseKey, parse_lease_key, parse_stamp
from modelyard.artifacts._leases import elapsed
from modelyard.artifacts._processes import UNKNOWN_HOST, host_id, is_gone
from modelyard.errors import NotFoundError
from modelyard.storage import Store

__all__ = ["LEGACY_TTL", "Holder", "live_holders", "read_holders", "wait_while_alive"]

logger = logging.getLogger("modelyard.artifacts")

#: How long a lease of an earlier version (renewed every 2.5 minutes) counts as alive.
LEGACY_TTL = timedelta(minutes=10)
#: A waiting put says what it waits for after this many seconds, then again at this interval.
WAIT_NOTICE_AFTER = 2.0
WAIT_NOTICE_EVERY = 30.0


@dataclass(frozen=True)
class Holder:
    """One lease as readers see it: the newest of its keys, and what they say."""

    token: str
    keys: tuple[str, ...]
    renewed: datetime | None  # None: an unreadable lease of an earlier version
    started: datetime | None
    host: str
    pid: int
    process_start: int
    legacy: bool = False

    def describe(self) -> str:
        where = "this host" if self.host == host_id() != UNKNOWN_HOST else "another host"
        since = self.started.isoformat() if self.started else "an unknown time"
        renewed = self.renewed.isoformat() if self.renewed else "never"
        return f"{self.keys[-1]} (pid {self.pid} on {where}, since {since}, renewed {renewed})"

    def alive(self, now: datetime, ttl: timedelta) -> bool:
        if self.renewed is None:
            return False
        if not self.legacy and is_gone(self.host, self.pid, self.process_start):
            return False
        limit = max(ttl, LEGACY_TTL) if self.legacy else ttl
        try:
            return now - self.renewed < limit
        except TypeError:  # a naive time in an earlier version's lease
            return False


def read_holders(store: Store, prefix: str) -> list[Holder]:
    """Every lease under ``prefix`` (one listing, plus a read per lease of an earlier version)."""
    grouped: dict[str, list[LeaseKey]] = {}
    keys: dict[str, list[str]] = {}
    holders = []
    for key in store.list(prefix):
        parsed = parse_lease_key(key, prefix)
        if parsed is None:
            legacy = _read_legacy(store, key)
            if legacy is not None:
                holders.append(legacy)
            continue
        grouped.setdefault(parsed.token, []).append(parsed)
        keys.setdefault(parsed.token, []).append(key)
    for token, parts in grouped.items():
        order = sorted(range(len(parts)), key=lambda i: parts[i].renewed)
        newest = parts[order[-1]]
        holders.append(
            Holder(
                token=token,
                keys=tuple(keys[token][i] for i in order),
                renewed=parse_stamp(newest.renewed),
                started=parse_stamp(newest.started),
                host=newest.host,
                pid=newest.pid,
                process_start=newest.process_start,
            )
        )
    return holders


def _read_legacy(store: Store, key: str) -> Holder | None:
    try:
        raw = store.read(key)
    except NotFoundError:
        return None  # released while we listed
    renewed = None
    pid = 0
    try:
        body = loads(raw)
        renewed = datetime.fromisoformat(body["at"])
        pid = int(body.get("pid", 0))
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    return Holder(key, (key,), renewed, None, UNKNOWN_HOST, pid, 0, legacy=True)


def live_holders(
    store: Store, prefix: str, clock: Clock, ttl: timedelta, *, exclude: Iterable[str] = ()
) -> tuple[list[Holder], list[Holder]]:
    """``(alive, dead)`` leases under ``prefix``, leaving out the tokens in ``exclude``."""
    now = clock.now()
    skip = set(exclude)
    alive: list[Holder] = []
    dead: list[Holder] = []
    for holder in read_holders(store, prefix):
        if holder.token in skip:
            continue
        (alive if holder.alive(now, ttl) else dead).append(holder)
    return alive, dead


def wait_while_alive(
    store: Store, prefix: str, clock: Clock, ttl: timedelta, *, waiter: str
) -> None:
    """Block while a lease that was alive under ``prefix`` at the first look is still alive.

    Only the leases seen at the first look are waited for: one announced later was announced
    after the caller's own lease, so its holder sees the caller and stands back. That keeps a put
    from starving behind a gc that runs in a loop. After ``WAIT_NOTICE_AFTER`` seconds, and then
    every ``WAIT_NOTICE_EVERY``, a warning on the ``modelyard.artifacts`` logger names the leases
    waited for and how long a holder that stopped renewing can still hold things up.
    """
    blocking = {holder.token: holder for holder in live_holders(store, prefix, clock, ttl)[0]}
    began = elapsed()
    notice = began + WAIT_NOTICE_AFTER
    delay = 0.01
    while blocking:
        now = elapsed()
        if now >= notice:
            notice = now + WAIT_NOTICE_EVERY
            logger.warning(
                "%s has waited %.0f s for %s to finish: %s. A holder that stops renewing its "
                "lease (a killed process) is passed over at the latest %.0f s after its last "
                "renewal, at once if it ran on this host",
                waiter,
                now - began,
                "a garbage collection" if "gc" in prefix else "a put",
                "; ".join(holder.describe() for holder in blocking.values()),
                ttl.total_seconds(),
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
        alive = {holder.token: holder for holder in live_holders(store, prefix, clock, ttl)[0]}
        blocking = {token: alive[token] for token in blocking if token in alive}
