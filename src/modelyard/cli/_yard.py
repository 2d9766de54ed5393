"""``modelyard verify`` and ``modelyard gc``: the commands of the yard itself."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from modelyard.cli._app import Group
from modelyard.cli._context import Context
from modelyard.cli._exit import ExitCode
from modelyard.cli._output import table, to_jsonable

__all__ = ["add"]


def add(group: Group) -> None:
    group.command(
        "verify",
        "re-hash every artifact and walk every model's event chain",
        _verify,
        description="Check the whole yard. Exits 5 (integrity failure) when anything is wrong.",
    )
    gc = group.command(
        "gc",
        "remove what nothing refers to (a dry run unless --delete)",
        _gc,
        description=(
            "Remove artifacts and blobs that no registry version, root or name refers to. Only "
            "reports what it would remove unless --delete is given."
        ),
    )
    gc.add_argument("--delete", action="store_true", help="delete (default: only report)")
    gc.add_argument(
        "--grace",
        type=_hours,
        default=timedelta(hours=1),
        metavar="HOURS",
        help="keep artifacts younger than this many hours (default 1)",
    )
    gc.add_argument(
        "--unnamed-only",
        dest="keep_named",
        action="store_true",
        default=True,
        help=argparse.SUPPRESS,
    )
    gc.add_argument(
        "--include-named",
        dest="keep_named",
        action="store_false",
        help="also remove named artifacts that nothing else refers to",
    )


def _hours(text: str) -> timedelta:
    try:
        hours = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of hours: {text!r}") from None
    if hours < 0:
        raise argparse.ArgumentTypeError("the grace period cannot be negative")
    return timedelta(hours=hours)


def _verify(ctx: Context) -> ExitCode:
    report = ctx.yard().verify()
    problems: list[dict[str, Any]] = [
        {"where": "artifact", **to_jsonable(p)} for p in report.artifacts.problems
    ]
    for model in report.registry.models:
        problems += [{"where": f"model {model.name}", **to_jsonable(p)} for p in model.problems]
    problems += [{"where": "governance", **to_jsonable(p)} for p in report.registry.governance]
    problems += [{"where": "version", **to_jsonable(p)} for p in report.versions]
    data = {
        "ok": report.ok,
        "artifacts": report.artifacts.artifacts,
        "blobs": report.artifacts.blobs,
        "bytes": report.artifacts.bytes,
        "orphans": len(report.artifacts.orphans),
        "models": len(report.registry.models),
        "problems": problems,
    }

    def human() -> str:
        head = (
            f"{'ok' if report.ok else 'DAMAGED'}: {data['artifacts']} artifacts, "
            f"{data['blobs']} blobs ({data['bytes']} bytes) re-hashed, {data['models']} models "
            f"walked, {data['orphans']} orphan blobs"
        )
        if not problems:
            return head
        rows = [
            {"where": p["where"], "problem": p.get("detail") or p.get("kind") or str(p)}
            for p in problems
        ]
        return head + "\n\n" + table(rows, ["where", "problem"])

    ctx.out.emit(data, human)
    return ExitCode.OK if report.ok else ExitCode.INTEGRITY


def _gc(ctx: Context) -> ExitCode:
    args = ctx.args
    report = ctx.yard().gc(grace=args.grace, dry_run=not args.delete, keep_named=args.keep_named)
    data = {
        "dry_run": report.dry_run,
        "kept": report.kept,
        "artifacts": list(report.artifacts),
        "blobs": len(report.blobs),
        "bytes": report.bytes,
        "deferred": report.deferred,
        "refused": list(report.refused),
        "interrupted": report.interrupted,
    }

    def human() -> str:
        verb = "would remove" if report.dry_run else "removed"
        lines = [
            f"{verb} {len(report.artifacts)} artifacts and {len(report.blobs)} blobs "
            f"({report.bytes} bytes); kept {report.kept}"
        ]
        lines += [f"  {artifact}" for artifact in report.artifacts]
        if report.deferred:
            lines.append("deferred: puts were in flight; run gc again later")
        lines += [f"refused: {reason}" for reason in report.refused]
        if report.dry_run and report.artifacts:
            lines.append("(a dry run: pass --delete to remove them)")
        return "\n".join(lines)

    ctx.out.emit(data, human)
    # Refusing to sweep is gc keeping its promise, not a failure of the command; the pipeline
    # reads "refused" from the JSON.
    return ExitCode.OK
