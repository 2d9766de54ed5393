"""What a put of a folder stores: every regular file under it, or an error naming what cannot be.

A put must never store part of a folder and report success, so the folder is walked (and every
refusal collected) before anything is written:

* A symbolic link is stored as what it points to (a file's bytes, a folder's files) when its target
  is inside the folder. A link whose target is outside (``~/.ssh/id_rsa``) is refused unless the
  caller passes ``follow_links=True``. A folder reached again below itself (a link to an ancestor)
  is a loop, and is refused.
* Named pipes, sockets, devices, broken links and entries that cannot be read are refused, and so
  are names a tree cannot hold (a backslash, a control character, bytes that are not UTF-8).
* Each file's identity, size and modification time are recorded here (:class:`Stamp`) and compared
  with the open file before and after its bytes are read, and the folder is walked again at the end:
  a file that changed (or was made executable or not), appeared or vanished while the put ran is an
  error, not a tree made of two moments. (Like git and rsync, a change that keeps the size and
  lands within the filesystem's timestamp resolution is not seen.)
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import NamedTuple

from modelyard._internal.collector import collector_paused
from modelyard.errors import ConcurrentModificationError, InputError

__all__ = ["Stamp", "TreeFile", "changed", "check_unchanged", "scan_tree"]


# Named tuples, not frozen dataclasses: a folder of 100,000 files makes 400,000 of them per put,
# and a tuple is built several times faster.


class Stamp(NamedTuple):
    """What identifies a file's content cheaply: which file it is, its size and its mtime."""

    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, info: os.stat_result) -> Stamp:
        return cls(info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


class TreeFile(NamedTuple):
    relative: str
    path: str  # a string, not a Path, for the same reason
    stamp: Stamp
    executable: bool


def changed(path: Path | str) -> ConcurrentModificationError:
    return ConcurrentModificationError(
        f"{path} changed while it was being stored, so no artifact was made of it. Store it again "
        "once nothing is writing to it",
        path=str(path),
    )


#: What a stored name cannot hold: a backslash or a control character (one search per name, as
#: a folder of 100,000 files is walked twice per put).
_SUSPECT = re.compile(r"[\x00-\x1f\x7f\\]")


def _bad_name(name: str) -> str | None:
    if _SUSPECT.search(name) is not None:
        if "\\" in name:
            return "has a backslash in its name, which a stored tree cannot hold"
        return "has a control character in its name"
    if name.isascii():
        return None
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "has a name that is not valid UTF-8"
    return None


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def scan_tree(root: Path, *, follow_links: bool) -> tuple[TreeFile, ...]:
    """Every file to store under ``root``, sorted by relative path; :class:`InputError` listing
    every entry that cannot be stored."""
    with collector_paused():
        return _scan(root, follow_links=follow_links)


def _scan(root: Path, *, follow_links: bool) -> tuple[TreeFile, ...]:
    top = Path(os.path.realpath(root))
    found: list[TreeFile] = []
    problems: list[str] = []
    outside = False
    # (folder as reached, its relative path, the (device, inode) of it and its ancestors)
    stack = [(top, "", frozenset({_identity(os.stat(top))}))]
    while stack:
        folder, prefix, ancestors = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            problems.append(f"{prefix or '.'} cannot be listed ({exc.strerror})")
            continue
        for entry in entries:
            relative = prefix + entry.name
            reason = _bad_name(entry.name)
            if reason is not None:
                problems.append(f"{relative!r} {reason}")
                continue
            try:
                # os.lstat, not entry.stat: on Windows the latter reports no inode or device,
                # which the loop check and the change check need.
                info = os.lstat(entry.path)
                if stat.S_ISLNK(info.st_mode):
                    target = os.path.realpath(entry.path)
                    if not Path(target).is_relative_to(top) and not follow_links:
                        problems.append(f"{relative} is a link to {target}, outside the folder")
                        outside = True
                        continue
                    info = os.stat(entry.path)
            except OSError as exc:
                problems.append(f"{relative} cannot be read ({exc.strerror}; a broken link?)")
                continue
            if stat.S_ISDIR(info.st_mode):
                identity = _identity(info)
                if identity in ancestors:
                    problems.append(f"{relative} leads back to a folder above it (a link loop)")
                    continue
                stack.append((Path(entry.path), relative + "/", ancestors | {identity}))
            elif stat.S_ISREG(info.st_mode):
                executable = bool(info.st_mode & stat.S_IXUSR)
                found.append(TreeFile(relative, entry.path, Stamp.of(info), executable))
            else:
                problems.append(f"{relative} is {_kind(info.st_mode)}")
    if problems:
        shown = "; ".join(problems[:10]) + (
            f"; and {len(problems) - 10} more" if len(problems) > 10 else ""
        )
        hint = (
            " Pass follow_links=True to store what links outside the folder point to."
            if outside
            else ""
        )
        raise InputError(
            f"cannot store the folder {root} completely, so nothing was stored: {shown}.{hint}",
            path=str(root),
            problems=problems,
        )
    found.sort(key=lambda f: f.relative)
    return tuple(found)


def _identity(info: os.stat_result) -> tuple[int, int]:
    return (info.st_dev, info.st_ino)


def check_unchanged(root: Path, files: tuple[TreeFile, ...], *, follow_links: bool) -> None:
    """Walk ``root`` again: the same files, with the same stamps, or the folder changed."""
    try:
        again = scan_tree(root, follow_links=follow_links)
    except InputError:
        raise changed(root) from None
    if again == files:  # both sorted by relative path: one comparison, made in C
        return
    before = {f.relative: (f.stamp, f.executable) for f in files}
    after = {f.relative: (f.stamp, f.executable) for f in again}
    moved = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    raise changed(f"{root} ({', '.join(moved[:5])})")
