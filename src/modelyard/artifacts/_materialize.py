"""Writing file and directory artifacts into the caller's folder (``get(..., dest=...)``).

The names written come from the manifest, so whoever can write to the store chose them. They are
checked before anything is created:

* A name is one path segment inside the destination, never a path: absolute paths and ``..`` cannot
  be expressed (a single file's recorded name that is not one plain segment becomes ``content``).
* Without ``trusted=True`` no file gets a name that Python would import or run (a writer of a
  shared bucket must not be able to drop ``pandas.py`` or a ``.pth`` file into a notebook's working
  folder) or that Windows runs or loads by name, and no file is made executable.
* Names with control characters are refused; on Windows so are device names (``CON``, ``NUL``, ...),
  ``:`` (alternate data streams) and trailing dots or spaces (Windows drops them).
* Two entries that the destination's filesystem sees as one name (one that ignores case, or
  normalises Unicode) are refused rather than merged or overwritten: every file and folder of a tree
  is created exclusively, so the filesystem itself says when a name is taken.

The result is assembled under a temporary name inside the destination and renamed into place once
every byte has been verified; an existing path is never replaced. If anything fails, whatever was
created (the temporary file or tree, and the folders made for ``dest``) is removed again.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from modelyard._internal.fds import write_all
from modelyard.artifacts._manifest import Manifest, TreeEntry
from modelyard.artifacts._packs import read_members, runs
from modelyard.artifacts._processes import UNKNOWN_HOST, host_id, is_gone, start_of
from modelyard.artifacts._progress import ProgressCallback, Tracker, run_bounded
from modelyard.artifacts._reading import copy_verified, corrupt, listing_bytes, read_verified
from modelyard.artifacts._refs import ArtifactRef
from modelyard.artifacts._writing import SMALL_FILE
from modelyard.errors import CodecError, InputError, UntrustedLoadError
from modelyard.storage import Store

__all__ = ["CODE_SUFFIXES", "check_names", "is_code_name", "materialize"]

#: Name endings that are not written without ``trusted=True``: what Python imports or runs
#: (modules, bytecode, extension modules, ``.pth`` files that ``site`` executes at start-up, zip
#: applications), shared libraries that programs load from their own folder, and what Windows
#: runs by name (the default ``PATHEXT`` and a few more).
CODE_SUFFIXES = frozenset(
    {
        ".py",
        ".pyw",
        ".pyc",
        ".pyo",
        ".pyd",
        ".so",
        ".pth",
        ".pyz",
        ".pyzw",
        ".dll",
        ".dylib",
        ".exe",
        ".com",
        ".bat",
        ".cmd",
        ".ps1",
        ".vbs",
        ".vbe",
        ".js",
        ".jse",
        ".wsf",
        ".wsh",
        ".msc",
        ".msi",
        ".scr",
        ".lnk",
    }
)

_DEVICES = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$"}
    | {f"{port}{n}" for port in ("com", "lpt") for n in "123456789"}
)


def is_code_name(leaf: str) -> bool:
    """Whether a file called ``leaf`` could be imported or run because of its name.

    Case is ignored (imports on macOS and Windows ignore it), and so are what Windows strips or
    reads as a stream: trailing dots and spaces, and anything after ``:``.

    >>> [is_code_name(n) for n in ("helpers.py", "Helpers.PY. ", "x.pth", "model.onnx", "x.py:s")]
    [True, True, True, False, True]
    """
    base = leaf.split(":", 1)[0].rstrip(" .").lower()
    return base.endswith(_CODE_SUFFIXES)


#: The same, as ``str.endswith`` takes them: one call per name, as a tree may hold 100,000.
_CODE_SUFFIXES = tuple(sorted(CODE_SUFFIXES))
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _unwritable(part: str, *, windows: bool) -> str | None:
    if _CONTROL.search(part) is not None:
        return "contains a control character"
    if windows:
        if ":" in part:
            return "contains ':' (an alternate data stream on Windows)"
        if part != part.rstrip(" ."):
            return "ends with a dot or a space (Windows would drop them)"
        if part.split(".", 1)[0].rstrip(" ").lower() in _DEVICES:
            return "is a device name on Windows"
    return None


def check_names(
    ref: ArtifactRef, paths: Iterable[str], *, trusted: bool, windows: bool = os.name == "nt"
) -> None:
    """Refuse names that cannot be written safely, and, unless ``trusted``, names of code."""
    code = []
    for path in paths:
        for part in path.split("/"):
            reason = _unwritable(part, windows=windows)
            if reason is not None:
                raise CodecError(
                    f"artifact {ref.spec} ({ref.id}) holds the name {path!r}, which {reason}; "
                    "it cannot be written safely here, and nothing was written",
                    ref=ref.id,
                    path=path,
                )
        if not trusted and is_code_name(path.rsplit("/", 1)[-1]):
            code.append(path)
    if code:
        shown = ", ".join(repr(p) for p in code[:5]) + (
            f" and {len(code) - 5} more" if len(code) > 5 else ""
        )
        raise UntrustedLoadError(
            f"artifact {ref.spec} ({ref.id}) would write {shown}: a name Python or the system "
            "could import or run. Names come from the store, so whoever can write to it chose "
            "them; nothing was written. If you trust where the artifact came from, call "
            "get(ref, dest=..., trusted=True) (which also restores executable bits)",
            ref=ref.id,
            paths=code,
        )


def materialize(
    store: Store,
    ref: ArtifactRef,
    manifest: Manifest,
    dest: Path | None,
    *,
    trusted: bool,
    direct_io: bool,
    threads: int = 1,
    progress: ProgressCallback | None = None,
) -> Path:
    """Write the file or directory artifact into ``dest`` (a new temp folder if None). (A
    folder's is restored with the garbage collector paused by the caller: see ``_payload.py``.)"""
    params = manifest.codec_params
    tree = manifest.tree
    if tree is None:
        leaf = _leaf(params.get("filename"), "content")
        check_names(ref, [leaf], trusted=trusted)
    else:
        leaf = _leaf(params.get("dirname"), "tree")
        check_names(ref, [leaf], trusted=True)
        check_names(ref, [entry.path for entry in tree], trusted=trusted)
        # The tree in the manifest must be the one the content digest was computed from.
        if read_verified(store, manifest.digest, None, ref) != listing_bytes(manifest):
            raise corrupt(ref, manifest.digest, "the tree listing disagrees with the manifest")
    with _destination(dest) as folder:
        target = folder / leaf
        _refuse_existing(target)
        _sweep_abandoned(folder, leaf)
        staging = folder / _staging_name(leaf)
        try:
            if tree is None:
                copy_verified(store, manifest.digest, ref, staging, direct_io=direct_io)
            else:
                staging.mkdir()
                _build_tree(
                    store,
                    ref,
                    manifest,
                    staging,
                    trusted=trusted,
                    direct_io=direct_io,
                    threads=threads,
                    progress=progress,
                )
            _publish(staging, target)
        except BaseException:
            if staging.is_dir():
                shutil.rmtree(staging, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    staging.unlink()
            raise
    return target


def _build_tree(
    store: Store,
    ref: ArtifactRef,
    manifest: Manifest,
    staging: Path,
    *,
    trusted: bool,
    direct_io: bool,
    threads: int,
    progress: ProgressCallback | None,
) -> None:
    assert manifest.tree is not None
    # Folders first, one thread, by their exact names: finding one of the others already there
    # means the filesystem took two names for one.
    made: set[str] = set()
    for entry in manifest.tree:
        parts = entry.path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder not in made:
                try:
                    staging.joinpath(*parts[:depth]).mkdir()
                except FileExistsError:
                    raise _clash(ref, folder) from None
                made.add(folder)

    root = str(staging)

    def place(entry: TreeEntry, data: bytes | memoryview | None) -> None:
        # A string, not a Path (which costs more than the file's write); '/' separates on every
        # system, and the names were checked above.
        path = os.path.join(root, entry.path)
        try:
            if data is not None:
                _write_new(path, data)
            elif entry.size <= SMALL_FILE:
                _write_new(path, read_verified(store, entry.digest, entry.size, ref))
            else:
                copy_verified(store, entry.digest, ref, path, direct_io=direct_io)
        except FileExistsError:
            raise _clash(ref, entry.path) from None
        if entry.executable and trusted:
            os.chmod(path, 0o755)

    def restore(work: list[TreeEntry]) -> list[int]:
        # A run of one pack's files (read together), or one file stored as its own blob.
        if work[0].pack is None:
            place(work[0], None)
        else:
            for entry, data in read_members(store, manifest.packs[work[0].pack], work, ref):
                place(entry, data)
        return [entry.size for entry in work]

    def done(sizes: list[int]) -> None:
        for size in sizes:
            tracker.done(size)

    loose = [[entry] for entry in manifest.tree if entry.pack is None]
    packed = runs([entry for entry in manifest.tree if entry.pack is not None])
    tracker = Tracker(progress, [entry.size for entry in manifest.tree])
    run_bounded(itertools.chain(packed, loose), restore, threads=threads, on_done=done)


def _write_new(path: str, data: bytes | memoryview) -> None:
    """A new file holding ``data`` (verified already); ``FileExistsError`` if the name is taken."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
    try:
        write_all(fd, data)
    finally:
        os.close(fd)


def _clash(ref: ArtifactRef, path: str) -> CodecError:
    return CodecError(
        f"artifact {ref.spec} ({ref.id}) cannot be rebuilt here: {path!r} is a name another "
        "entry of its tree already took on this filesystem (it ignores case or normalises "
        "Unicode, or the tree lists the name twice). Nothing was written; get it into a folder "
        "on a case-sensitive filesystem",
        ref=ref.id,
        path=path,
    )


@contextlib.contextmanager
def _destination(dest: Path | None) -> Iterator[Path]:
    """The folder to write into; the folders made for it are removed again if writing fails."""
    if dest is None:
        made = [Path(tempfile.mkdtemp(prefix="modelyard-"))]
    else:
        made = []
        missing = dest
        while not missing.exists() and not missing.is_symlink() and missing != missing.parent:
            made.append(missing)
            missing = missing.parent
        made.reverse()
        for folder in made:
            folder.mkdir(exist_ok=True)
        if not dest.is_dir():
            raise InputError(f"dest {dest} is not a folder", path=str(dest))
    try:
        yield made[-1] if dest is None else dest
    except BaseException:
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _leaf(value: Any, default: str) -> str:
    # A name from the manifest becomes one path segment, never a path.
    if (
        isinstance(value, str)
        and value not in ("", ".", "..")
        and "/" not in value
        and "\\" not in value
    ):
        return value
    return default


def _refuse_existing(target: Path) -> None:
    if target.exists() or target.is_symlink():
        raise InputError(
            f"{target} already exists; pass get(..., dest=...) a folder where it does not",
            path=str(target),
        )


def _publish(staging: Path, target: Path) -> None:
    _refuse_existing(target)
    if staging.is_dir():
        os.rename(staging, target)
        return
    # A hard link never replaces an existing file, so a file that appeared since the check above
    # is refused rather than overwritten; where links are not supported, rename after the check.
    try:
        os.link(staging, target)
    except FileExistsError:
        _refuse_existing(target)
        raise
    except OSError:
        os.replace(staging, target)
        return
    staging.unlink()


def _staging_name(leaf: str) -> str:
    # The writer's host and process are in the name, so that a later get into the same folder
    # can remove what a killed one left behind (never what a live one is writing).
    host = host_id()
    pid = os.getpid()
    return f".{leaf}.{host}-{pid}-{start_of(pid)}-{uuid.uuid4().hex}.part"


def _sweep_abandoned(folder: Path, leaf: str) -> None:
    """Remove the hidden staging entries of ``leaf`` whose writer on this host has died."""
    if host_id() == UNKNOWN_HOST:
        return
    pattern = re.compile(rf"\.{re.escape(leaf)}\.([0-9a-f]+)-(\d+)-(\d+)-[0-9a-f]{{32}}\.part")
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            found = pattern.fullmatch(entry.name)
            if found is None or not is_gone(found[1], int(found[2]), int(found[3])):
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
