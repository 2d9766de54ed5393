"""``modelyard artifacts ...``: store, fetch, list, show and trace artifacts.

``put`` stores a file or a folder as the library does (the ``file`` and ``directory`` codecs);
``get`` restores it, or writes a stored object's bytes. Objects of other codecs (data frames,
models, JSON values) are stored from Python; here their bytes can be fetched and their manifest
shown.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from modelyard.cli._app import Group
from modelyard.cli._context import Context
from modelyard.cli._exit import ExitCode
from modelyard.cli._output import table, to_jsonable
from modelyard.cli._values import as_dict, non_negative_int, text_pair

if TYPE_CHECKING:
    from modelyard.artifacts import ArtifactRef, Manifest
    from modelyard.artifacts import Progress as FolderProgress
    from modelyard.artifacts._progress import ProgressCallback

__all__ = ["add", "describe_ref"]

#: Codecs whose ``get`` writes a file or folder rather than returning an object.
_PATH_CODECS = ("file", "directory")
_CHUNK = 1 << 20


def add(group: Group) -> None:
    put = group.command(
        "put",
        "store a file or a folder as a new artifact",
        _put,
        description=(
            "Store PATH (a file, or a folder whole) as a new artifact and print its id. Every "
            "put makes a new version, even of unchanged content (whose bytes are not stored "
            "again)."
        ),
    )
    put.add_argument("path", metavar="PATH", help="the file or folder to store")
    put.add_argument("--name", help="store it under this name (then NAME@latest finds it)")
    put.add_argument(
        "--parent",
        action="append",
        default=[],
        metavar="REF",
        help="an artifact it was made from (repeatable), e.g. artifacts:/churn-data@latest",
    )
    put.add_argument(
        "--meta",
        action="append",
        type=text_pair,
        default=[],
        metavar="KEY=VALUE",
        help="metadata recorded in the manifest, as text (repeatable)",
    )
    put.add_argument(
        "--follow-links",
        action="store_true",
        help="store links that lead out of the folder as what they point to",
    )

    get = group.command(
        "get",
        "restore a file or folder, or write an artifact's bytes",
        _get,
        description=(
            "Restore the artifact REF names, every byte verified first. A file or folder "
            "artifact is written to --output (which must not exist); any other artifact's bytes "
            "go to --output, or to stdout without it. A folder needs --output."
        ),
    )
    get.add_argument("ref", metavar="REF", help="e.g. artifacts:/churn-data@latest, sha256:...")
    get.add_argument("--output", "-o", metavar="PATH", help="where to write it (must not exist)")
    get.add_argument(
        "--trusted",
        action="store_true",
        help="also write names Python or the system could run (.py, .so, ...) and exec bits",
    )

    ls = group.command("ls", "list artifacts, newest first", _ls)
    ls.add_argument("--name", help="only the versions stored under this name")

    show = group.command("show", "print an artifact's manifest (and the code that made it)", _show)
    show.add_argument("ref", metavar="REF")

    lineage = group.command(
        "lineage", "what an artifact was made from and what was made from it", _lineage
    )
    lineage.add_argument("ref", metavar="REF")
    lineage.add_argument(
        "--direction",
        choices=("ancestors", "descendants", "both"),
        default="both",
        help="which way to walk (default: both)",
    )
    lineage.add_argument(
        "--depth",
        type=non_negative_int,
        default=None,
        metavar="N",
        help="at most N hops (default: all)",
    )


# -- shared renderings ---------------------------------------------------------------------------


def describe_ref(ref: ArtifactRef) -> dict[str, Any]:
    """The JSON shape of an artifact reference, as every artifacts command prints it."""
    return {
        "id": ref.id,
        "name": ref.name,
        "spec": ref.spec,
        "digest": ref.digest,
        "size": ref.size,
        "media_type": ref.media_type,
    }


# -- put -----------------------------------------------------------------------------------------


def _put(ctx: Context) -> ExitCode:
    from modelyard.errors import InputError

    args = ctx.args
    path = Path(args.path)
    # Checked before the yard is opened or created: a typo must not leave a new, empty yard.
    if not path.exists():
        raise InputError(f"{path} does not exist: give the file or folder to store", path=str(path))
    if not (path.is_file() or path.is_dir()):
        raise InputError(f"{path} is neither a file nor a folder: give one of those")
    metadata = as_dict(args.meta, "--meta")
    from modelyard._internal.names import validate_name
    from modelyard._internal.references import parse_reference

    if args.name is not None:
        validate_name(args.name, kind="artifact name")
    parents = [str(parse_reference(p, expect="artifact")) for p in args.parent]
    yard = ctx.yard(create=True)
    with _observed(ctx, f"storing {path.name}") as progress:
        ref = yard.artifacts.put(
            path,
            name=args.name,
            metadata=metadata,
            parents=parents,
            follow_links=args.follow_links,
            progress=progress,
        )
    data = describe_ref(ref)
    ctx.out.emit(data, f"{ref.id}\nstored {path} as {ref.spec} ({ref.size} bytes)")
    return ExitCode.OK


@contextlib.contextmanager
def _observed(ctx: Context, label: str) -> Iterator[ProgressCallback | None]:
    """The one place a file or folder put/get draws its bar: a callback for the library's
    ``progress=``, or None (silent) when nobody watches a terminal."""
    bar = ctx.progress(label, unit=" files")
    if bar is None:
        yield None
        return
    drawn = bar

    def show(progress: FolderProgress) -> None:
        drawn.update(progress.files_done, progress.files_total)

    try:
        yield show
    finally:
        bar.close()


# -- get -----------------------------------------------------------------------------------------


def _get(ctx: Context) -> ExitCode:
    from modelyard.errors import InputError

    args = ctx.args
    output = Path(args.output) if args.output else None
    if output is None and ctx.out.json:
        raise InputError("--json prints the result on stdout: give --output PATH for the content")
    if output is not None and (output.exists() or output.is_symlink()):
        raise InputError(f"{output} already exists: give --output a path that does not")
    artifacts = ctx.yard().artifacts
    ref = artifacts.resolve(args.ref)
    manifest = artifacts.manifest(ref)
    if manifest.codec in _PATH_CODECS:
        if output is None and manifest.codec == "directory":
            raise InputError(
                f"{ref.spec} is a folder: give --output PATH to restore it there", ref=ref.id
            )
        if output is None:
            _bytes_to_stdout(ctx, ref)
            return ExitCode.OK
        kind = "directory" if manifest.codec == "directory" else "file"
        with _observed(ctx, f"restoring {ref.spec}") as progress:
            _restore(ctx, ref, output, trusted=args.trusted, progress=progress)
    else:
        if output is None:
            _bytes_to_stdout(ctx, ref)
            return ExitCode.OK
        kind = "bytes"
        _bytes_to_file(ctx, ref, output)
    data = {**describe_ref(ref), "kind": kind, "path": str(output)}
    ctx.out.emit(data, f"wrote {ref.spec} to {output}")
    return ExitCode.OK


def _restore(
    ctx: Context,
    ref: ArtifactRef,
    output: Path,
    *,
    trusted: bool,
    progress: ProgressCallback | None = None,
) -> None:
    """Restore a file or folder artifact as ``output``: written beside it under a temporary name
    (the library writes it whole or not at all) and renamed into place."""
    parent = output.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".modelyard-get-", dir=parent))
    try:
        artifacts = ctx.yard().artifacts
        written = Path(artifacts.get(ref, dest=staging, trusted=trusted, progress=progress))
        _claim(written, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _claim(source: Path, output: Path) -> None:
    from modelyard.errors import InputError

    if output.exists() or output.is_symlink():
        raise InputError(f"{output} appeared meanwhile: nothing was written there")
    if source.is_dir():
        # rename(2) onto an existing empty folder would succeed: checked just above.
        source.rename(output)
        return
    try:
        os.link(source, output)  # fails if output exists: never replaces a file
    except OSError:
        # No hard links on this filesystem: fall back to a rename after the check above.
        source.rename(output)


def _verified_content(ctx: Context, ref: ArtifactRef) -> BinaryIO:
    """The content of ``ref`` in a spooled file, every byte verified before any is handed out
    (the stream raises IntegrityError at its last read if the bytes are wrong)."""
    spool = tempfile.SpooledTemporaryFile(max_size=64 * _CHUNK)  # noqa: SIM115 (returned)
    bar = ctx.progress(f"fetching {ref.spec}", unit=" bytes")
    try:
        with ctx.yard().artifacts.open(ref) as stream:
            done = 0
            while chunk := stream.read(_CHUNK):
                spool.write(chunk)
                done += len(chunk)
                if bar is not None:
                    bar.update(done, ref.size)
    except BaseException:
        spool.close()
        raise
    finally:
        if bar is not None:
            bar.close()
    spool.seek(0)
    return spool  # type: ignore[return-value]


def _bytes_to_stdout(ctx: Context, ref: ArtifactRef) -> None:
    with _verified_content(ctx, ref) as content:
        sink = getattr(ctx.out.stdout, "buffer", None) or sys.stdout.buffer
        shutil.copyfileobj(content, sink, _CHUNK)
        sink.flush()


def _bytes_to_file(ctx: Context, ref: ArtifactRef, output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    with _verified_content(ctx, ref) as content, open(output, "xb") as sink:
        shutil.copyfileobj(content, sink, _CHUNK)


# -- ls, show, lineage -----------------------------------------------------------------------------


def _ls(ctx: Context) -> ExitCode:
    artifacts = ctx.yard().artifacts
    if ctx.args.name is not None:
        refs = artifacts.find(ctx.args.name)
        if not refs:
            from modelyard.errors import NotFoundError

            raise NotFoundError(
                f"no artifact is stored under the name {ctx.args.name!r}: run "
                "'modelyard artifacts ls' to list every artifact",
                name=ctx.args.name,
            )
        rows = [(ref, artifacts.manifest(ref)) for ref in refs]
    else:
        from modelyard.artifacts._catalog import list_artifact_ids

        found = [artifacts.resolve(i) for i in list_artifact_ids(ctx.yard().store)]
        rows = [(ref, artifacts.manifest(ref)) for ref in found]
        rows.sort(key=lambda row: (row[1].created_at, row[0].id), reverse=True)
    items = [
        {**describe_ref(ref), "codec": m.codec, "created_at": m.created_at.isoformat()}
        for ref, m in rows
    ]

    def human() -> str:
        shown = [
            {
                "artifact": item["spec"] if item["name"] else item["id"][:19],
                "codec": item["codec"],
                "size": item["size"],
                "created": item["created_at"][:19].replace("T", " "),
            }
            for item in items
        ]
        return table(shown, ["artifact", "codec", "size", "created"])

    ctx.out.emit({"artifacts": items}, human)
    return ExitCode.OK


def _manifest_dict(manifest: Manifest) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(manifest)
    data["code"] = manifest.code.to_dict() if manifest.code is not None else None
    return data


def _show(ctx: Context) -> ExitCode:
    artifacts = ctx.yard().artifacts
    ref = artifacts.resolve(ctx.args.ref)
    manifest = artifacts.manifest(ref)
    data = {"id": ref.id, "spec": ref.spec, "manifest": _manifest_dict(manifest)}

    def human() -> str:
        lines = [
            f"artifact   {ref.id}",
            f"name       {manifest.name or '(none)'}",
            f"codec      {manifest.codec} ({manifest.media_type})",
            f"size       {manifest.size} bytes",
            f"digest     {manifest.digest}",
            f"created    {manifest.created_at.isoformat()}",
            f"python     {manifest.environment.python}",
        ]
        lines += [f"parent     {parent}" for parent in manifest.parents]
        lines += [f"meta       {k}={v}" for k, v in manifest.metadata.items()]
        if manifest.tree is not None:
            lines.append(f"files      {len(manifest.tree)}")
        code = manifest.code
        if code is None:
            lines.append("code       (not recorded)")
        else:
            lines.append(f"commit     {code.commit}")
            lines.append(f"dirty      {'unknown' if code.dirty is None else code.dirty}")
            if code.remote:
                lines.append(f"remote     {code.remote}")
            if code.branch:
                lines.append(f"branch     {code.branch}")
            if code.argv:
                lines.append(f"command    {code.command()}")
        return "\n".join(lines)

    ctx.out.emit(data, human)
    return ExitCode.OK


def _lineage(ctx: Context) -> ExitCode:
    args = ctx.args
    artifacts = ctx.yard().artifacts
    graph = artifacts.lineage(args.ref, direction=args.direction, depth=args.depth)
    distance = graph.distance

    def node(ref: ArtifactRef) -> dict[str, Any]:
        return {**describe_ref(ref), "distance": distance.get(ref.id, 0)}

    data: dict[str, Any] = {
        "root": describe_ref(graph.root),
        "direction": graph.direction,
        "ancestors": [node(r) for r in graph.ancestors],
        "descendants": [node(r) for r in graph.descendants],
        "edges": [list(edge) for edge in graph.edges],
    }

    def human() -> str:
        lines = [f"{graph.root.spec}"]
        for title, key in (("made from", "ancestors"), ("made into", "descendants")):
            if args.direction in (key, "both"):
                lines.append(f"{title}:")
                nodes = data[key]
                lines += [f"  {'  ' * (n['distance'] - 1)}{n['spec']}" for n in nodes] or [
                    "  (nothing)"
                ]
        return "\n".join(lines)

    ctx.out.emit(data, human)
    return ExitCode.OK
