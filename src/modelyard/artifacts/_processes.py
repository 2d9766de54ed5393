"""Which host and process hold a lease, and whether that process is gone.

A lease names its holder by host and process, so that a holder on the same host that died (a
SIGKILLed gc, a crashed notebook) is recognised at once instead of after the lease's
time-to-live. The check must never call a live holder dead, so it is made only where it is
certain:

* the host id is a digest of the kernel's boot id and the pid namespace, so two containers on one
  machine (same kernel, separate pid namespaces), or two boots of one machine, never share one.
  Where neither can be read (not Linux, a restricted ``/proc``) the host id is ``"0"`` and no
  lease is judged by its process, only by its time;
* a pid is gone when ``/proc/<pid>`` does not exist, is a zombie, or belongs to a process that
  started at another time (the pid was reused).
"""

from __future__ import annotations

import functools
import hashlib
import os

__all__ = ["UNKNOWN_HOST", "host_id", "is_gone", "start_of"]

UNKNOWN_HOST = "0"


@functools.lru_cache(maxsize=1)
def _host_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            boot = handle.read().strip()
        namespace = os.stat("/proc/self/ns/pid")
    except OSError:
        return UNKNOWN_HOST
    if not boot:
        return UNKNOWN_HOST
    seed = f"{boot}:{namespace.st_dev}:{namespace.st_ino}".encode()
    return hashlib.sha256(seed).hexdigest()[:12]


def host_id() -> str:
    """This process's host id (``"0"`` where it cannot be known)."""
    return _host_id()


def _stat(pid: int) -> tuple[str, int] | None:
    """``(state, start time in clock ticks after boot)`` of ``pid``; None if there is none."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    fields = text[text.rfind(")") + 2 :].split()
    return fields[0], int(fields[19])


def start_of(pid: int) -> int:
    """When ``pid`` started, in clock ticks after boot; 0 where that cannot be known."""
    if host_id() == UNKNOWN_HOST:
        return 0
    try:
        found = _stat(pid)
    except (OSError, ValueError, IndexError):
        return 0
    return found[1] if found is not None else 0


def is_gone(host: str, pid: int, started: int) -> bool:
    """True only if the process ``pid`` of ``host`` certainly no longer runs."""
    if host == UNKNOWN_HOST or host != host_id() or pid <= 0:
        return False
    try:
        found = _stat(pid)
    except (OSError, ValueError, IndexError):
        return False
    if found is None:
        return True
    state, start = found
    return state == "Z" or (started != 0 and start != started)
