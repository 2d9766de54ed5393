"""How registry records are printed: the JSON shapes and the text for people."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelyard.cli._output import to_jsonable

if TYPE_CHECKING:
    from modelyard.registry import HistoryEntry, ModelVersion

__all__ = ["MODEL_SCHEME", "code_lines", "describe_version", "history_item", "version_text"]

MODEL_SCHEME = "models:/"


def describe_version(version: ModelVersion) -> dict[str, Any]:
    """The JSON shape of a version, as every registry command prints it."""
    data: dict[str, Any] = to_jsonable(version.to_dict())
    data["ref"] = f"{MODEL_SCHEME}{version.ref}"
    return data


def version_text(version: ModelVersion) -> str:
    """A version for people: one field a line, the code record included."""
    lines = [
        f"version    {version.ref}{'  (deleted)' if version.deleted else ''}",
        f"state      {version.state}",
        f"aliases    {', '.join(version.aliases) or '(none)'}",
        f"artifact   {version.artifact}",
        f"created    {version.created_at.isoformat() if version.created_at else '?'} by "
        f"{version.created_by or '?'}",
    ]
    if version.description:
        lines.append(f"about      {version.description}")
    lines += [f"metric     {k}={v}" for k, v in version.metrics.items()]
    lines += [f"tag        {k}={v}" for k, v in version.tags.items()]
    lines += [f"lineage    {artifact}" for artifact in version.lineage]
    if version.provenance is not None:
        lines.append(f"copied     from {version.provenance.ref}")
    lines += code_lines(version.code)
    return "\n".join(lines)


def code_lines(code: Any) -> list[str]:
    """The code record's fields for people (commit, dirty, remote, command line)."""
    if code is None:
        return ["code       (not recorded)"]
    lines = [
        f"commit     {code.commit}",
        f"dirty      {'unknown' if code.dirty is None else code.dirty}",
    ]
    if code.remote:
        lines.append(f"remote     {code.remote}")
    if code.branch:
        lines.append(f"branch     {code.branch}")
    if code.argv:
        lines.append(f"command    {code.command()}")
    return lines


def history_item(entry: HistoryEntry) -> dict[str, Any]:
    """The JSON shape of one history entry."""
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "kind": entry.kind,
        "actor": entry.actor,
        "reason": entry.reason,
        "version": entry.version,
        "changes": to_jsonable(entry.changes),
        "results": to_jsonable(entry.results),
        "alias_moves": [move.to_dict() for move in entry.alias_moves],
        "data": to_jsonable(entry.data),
        "code": entry.code.to_dict() if entry.code is not None else None,
    }
