"""``modelyard registry ...``: models, versions, aliases, stages and history.

This module declares the commands and runs the ones that only read; the ones that change the
registry are in :mod:`modelyard.cli._registry_changes`, ``watch`` in
:mod:`modelyard.cli._registry_watch`. References use the library's grammar (``models:/churn/3``,
``churn@champion``, ``artifacts:/churn-model@latest``: see ``docs/references.md``).
"""

from __future__ import annotations

from typing import Any

from modelyard.cli import _registry_changes as changes
from modelyard.cli import _registry_watch as watching
from modelyard.cli._app import Group
from modelyard.cli._context import Context
from modelyard.cli._exit import ExitCode
from modelyard.cli._output import table, to_jsonable
from modelyard.cli._registry_render import (
    MODEL_SCHEME,
    describe_version,
    history_item,
    version_text,
)
from modelyard.cli._values import instant, positive_int

__all__ = ["add"]


def add(group: Group) -> None:
    group.command("ls", "list the models: latest version, count, aliases", _ls)
    show = group.command(
        "show",
        "a model (NAME) or one version (NAME/VERSION, NAME@ALIAS)",
        _show,
        description=(
            "Show a model and its versions (NAME), or one version (NAME/VERSION, NAME@ALIAS, "
            "NAME@STAGE, with or without models:/)."
        ),
    )
    show.add_argument("ref", metavar="REF", help="e.g. churn, churn/3, models:/churn@champion")
    resolve = group.command(
        "resolve",
        "print the version and artifact id a reference names",
        _resolve,
        description=(
            "Print the version a reference names and its artifact id, e.g. for a deploy step: "
            "modelyard registry resolve models:/churn@production"
        ),
    )
    resolve.add_argument("ref", metavar="REF", help="e.g. models:/churn@production, churn/3")
    history = group.command(
        "history", "every change of a model: who, when, what, why, and the code", _history
    )
    history.add_argument("name", metavar="NAME")
    history.add_argument(
        "--kind",
        action="append",
        metavar="KIND",
        help="only events of this kind (repeatable), e.g. transition, rollback, alias.set",
    )
    state_at = group.command(
        "state-at",
        "each version's state and every alias at a past time",
        _state_at,
        description="The model as it stood at TIME (ISO 8601 with a zone, e.g. 2026-05-01T12:00Z).",
    )
    state_at.add_argument("name", metavar="NAME")
    state_at.add_argument("time", metavar="TIME", type=instant)
    card = group.command(
        "card",
        "a version's model card, as Markdown or an HTML page",
        _card,
        description=(
            "Print the model card of NAME VERSION as Markdown, or write it as one "
            "self-contained HTML page with --html FILE."
        ),
    )
    card.add_argument("name", metavar="NAME")
    card.add_argument("version", metavar="VERSION", type=positive_int)
    form = card.add_mutually_exclusive_group()
    form.add_argument("--html", metavar="FILE", help="write the card as HTML to FILE")
    form.add_argument("--markdown", action="store_true", help="print Markdown (the default)")
    changes.add(group)
    watching.add(group)


def _ls(ctx: Context) -> ExitCode:
    models = ctx.yard().registry.models()
    items: list[dict[str, Any]] = [
        {
            "name": m.name,
            "latest_version": m.latest_version,
            "versions": m.version_count,
            "aliases": dict(m.aliases),
            "tags": dict(m.tags),
            "description": m.description,
            "updated_at": m.updated_at.isoformat(),
        }
        for m in models
    ]

    def human() -> str:
        rows = [
            {
                "model": i["name"],
                "latest": i["latest_version"],
                "versions": i["versions"],
                "aliases": {k: v for k, v in i["aliases"].items() if k != "latest"},
            }
            for i in items
        ]
        return table(rows, ["model", "latest", "versions", "aliases"])

    ctx.out.emit({"models": items}, human)
    return ExitCode.OK


def _show(ctx: Context) -> ExitCode:
    text: str = ctx.args.ref
    body = text.removeprefix(MODEL_SCHEME)
    registry = ctx.yard().registry
    if "/" in body or "@" in body:
        version = registry.resolve(text)
        ctx.out.emit({"version": describe_version(version)}, lambda: version_text(version))
        return ExitCode.OK
    model = registry.model(body)
    versions = registry.versions(body, include_deleted=True)
    data: dict[str, Any] = {
        "model": {
            "name": model.name,
            "description": model.description,
            "tags": dict(model.tags),
            "aliases": dict(model.aliases),
            "follows": dict(model.follows),
            "latest_version": model.latest_version,
            "created_at": model.created_at.isoformat(),
            "updated_at": model.updated_at.isoformat(),
        },
        "versions": [describe_version(v) for v in versions],
    }

    def human() -> str:
        head = [f"model      {model.name}"]
        if model.description:
            head.append(f"about      {model.description}")
        head += [f"tag        {k}={v}" for k, v in model.tags.items()]
        head += [f"follows    {alias} -> {stage}" for alias, stage in model.follows.items()]
        rows = [
            {
                "version": v.version,
                "state": v.state + (" (deleted)" if v.deleted else ""),
                "aliases": v.aliases,
                "metrics": dict(v.metrics),
                "created": v.created_at.isoformat()[:19].replace("T", " ") if v.created_at else "",
            }
            for v in versions
        ]
        return (
            "\n".join(head)
            + "\n\n"
            + table(rows, ["version", "state", "aliases", "metrics", "created"])
        )

    ctx.out.emit(data, human)
    return ExitCode.OK


def _resolve(ctx: Context) -> ExitCode:
    version = ctx.yard().registry.resolve(ctx.args.ref)
    data: dict[str, Any] = {
        "ref": f"{MODEL_SCHEME}{version.ref}",
        "name": version.name,
        "version": version.version,
        "artifact": version.artifact,
        "state": version.state,
    }
    # One line, two fields: what a shell script reads with `read version artifact`.
    ctx.out.emit(data, f"{version.ref} {version.artifact}")
    return ExitCode.OK


def _history(ctx: Context) -> ExitCode:
    entries = ctx.yard().registry.history(ctx.args.name, kinds=ctx.args.kind)
    items = [history_item(e) for e in entries]

    def human() -> str:
        lines = []
        for entry in entries:
            lines.append(str(entry))
            if entry.code is not None and entry.code.argv:
                lines.append(f"    command: {entry.code.command()}")
            if entry.code is not None and entry.code.remote:
                lines.append(f"    remote: {entry.code.remote}")
        return "\n".join(lines) or "(no events)"

    ctx.out.emit({"name": ctx.args.name, "events": items}, human)
    return ExitCode.OK


def _state_at(ctx: Context) -> ExitCode:
    snapshot = ctx.yard().registry.state_at(ctx.args.name, ctx.args.time)
    data: dict[str, Any] = {
        "name": snapshot.name,
        "at": snapshot.at.isoformat(),
        "versions": [
            {"version": v.version, "state": v.state, "deleted": v.deleted}
            for v in snapshot.versions
        ],
        "aliases": dict(snapshot.aliases),
        "follows": dict(snapshot.follows),
    }

    def human() -> str:
        head = f"{snapshot.name} at {snapshot.at.isoformat()}"
        rows = [
            {
                "version": v.version,
                "state": v.state + (" (deleted)" if v.deleted else ""),
                "aliases": [a for a, n in snapshot.aliases.items() if n == v.version],
            }
            for v in snapshot.versions
        ]
        return head + "\n" + table(rows, ["version", "state", "aliases"])

    ctx.out.emit(data, human)
    return ExitCode.OK


def _card(ctx: Context) -> ExitCode:
    from pathlib import Path

    from modelyard.errors import InputError

    args = ctx.args
    html_path = Path(args.html) if args.html else None
    if html_path is not None and html_path.is_dir():
        raise InputError(f"{html_path} is a folder: give --html the file to write")
    card = ctx.yard().registry.card(f"{args.name}/{args.version}")
    markdown = card.to_markdown()
    if html_path is not None:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(card.to_html(), encoding="utf-8")
    data: dict[str, Any] = {
        "ref": f"{MODEL_SCHEME}{card.ref}",
        "html": str(html_path) if html_path is not None else None,
        "markdown": markdown,
        "card": to_jsonable(card),
    }
    human = f"wrote the card of {card.ref} to {html_path}" if html_path else markdown
    ctx.out.emit(data, human)
    return ExitCode.OK
