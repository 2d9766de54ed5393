"""``modelyard lifecycle ...``: show the yard's stored lifecycle, store a new one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard.cli._app import Group
from modelyard.cli._context import Context
from modelyard.cli._exit import ExitCode
from modelyard.cli._output import table, to_jsonable
from modelyard.errors import InputError, NotFoundError

if TYPE_CHECKING:
    from modelyard.lifecycle import Lifecycle
    from modelyard.registry import Registry

__all__ = ["add"]


def add(group: Group) -> None:
    """Declare the commands of this group."""
    show = group.command(
        "show",
        "the lifecycle in force: stages, transitions, guards, approvals, roles",
        _show,
        description=(
            "Show the lifecycle in force for MODEL (default: the yard's default lifecycle), where "
            "it comes from, and the yard's roles. --mermaid prints the state diagram instead."
        ),
    )
    show.add_argument("model", nargs="?", metavar="MODEL", help="a model's name")
    show.add_argument("--mermaid", action="store_true", help="print the Mermaid state diagram")

    store = group.command(
        "set",
        "store a lifecycle from a JSON file (as 'lifecycle show --json' prints it)",
        _set,
        description=(
            "Store the lifecycle in FILE as the yard's default, or as MODEL's own with --model. "
            "FILE is the stored form of a lifecycle (Lifecycle.to_dict(), or the 'lifecycle' "
            "field of 'modelyard lifecycle show --json'). A bad file exits 2 before anything is "
            "written; a change refused by the yard's governance exits 4."
        ),
    )
    store.add_argument("file", type=Path, metavar="FILE", help="a JSON file, or - for stdin")
    store.add_argument("--model", help="store it as this model's own lifecycle")
    store.add_argument("--reason", default="", help="why, recorded with the change")
    store.add_argument("--check", action="store_true", help="only check the file; store nothing")


def _origin(registry: Registry, model: str | None) -> dict[str, Any] | None:
    """The event that stored the lifecycle in force for ``model``, or None (not stored yet)."""
    events = registry.governance_history(kinds=["lifecycle.set"])
    for scope in (model, None) if model is not None else (None,):
        mine = [e for e in events if e.model == scope]
        if mine and mine[-1].data.get("after") is not None:
            last = mine[-1]
            return {
                "scope": "model" if scope is not None else "default",
                "seq": last.seq,
                "at": last.at,
                "actor": last.actor,
                "reason": last.reason,
            }
    return None


def _transitions(lifecycle: Lifecycle) -> list[dict[str, Any]]:
    from modelyard.lifecycle._guard import guard_name

    return [
        {
            "source": t.source,
            "target": t.target,
            "guards": [guard_name(g) for g in t.guards],
            "approvals": t.approvals,
        }
        for t in lifecycle.transitions
    ]


def _show(ctx: Context) -> ExitCode:
    model = ctx.args.model
    registry = ctx.yard().registry
    lifecycle = registry.lifecycle(model)
    if ctx.args.mermaid:
        mermaid = lifecycle.to_mermaid()
        ctx.out.emit({"model": model, "mermaid": mermaid}, mermaid)
        return ExitCode.OK
    origin = _origin(registry, model)
    roles = registry.roles()
    data = {
        "model": model,
        "stored": origin,
        "states": list(lifecycle.states),
        "initial": lifecycle.initial,
        "exclusive": dict(lifecycle.exclusive),
        "protected": sorted(lifecycle.protected),
        "transitions": _transitions(lifecycle),
        "roles": roles,
        "lifecycle": lifecycle.to_dict(),
    }

    def human() -> str:
        scope = f"model {model!r}" if model is not None else "the yard's default"
        if origin is None:
            where = "not stored yet: the built-in default, stored at the yard's first change"
        else:
            own = "its own" if origin["scope"] == "model" else "the yard's default"
            where = (
                f"{own}, stored by {origin['actor']} at {to_jsonable(origin['at'])} "
                f"(event {origin['seq']})"
            )
        lines = [
            f"lifecycle of {scope}: {where}",
            f"states: {', '.join(lifecycle.states)} (new versions start in {lifecycle.initial})",
        ]
        lines += [
            f"exclusive: {state} (a displaced holder moves to {to})"
            for state, to in lifecycle.exclusive.items()
        ]
        if lifecycle.protected:
            lines.append(f"protected: {', '.join(sorted(lifecycle.protected))}")
        rows = [
            {
                "from": t["source"],
                "to": t["target"],
                "guards": t["guards"],
                "approvals": t["approvals"] or "",
            }
            for t in data["transitions"]
        ]
        lines += ["", table(rows, ["from", "to", "guards", "approvals"]), ""]
        role_rows = [{"role": role, "members": members} for role, members in roles.items()]
        lines.append(table(role_rows, ["role", "members"]) if roles else "roles: (none)")
        return "\n".join(lines)

    ctx.out.emit(data, human)
    return ExitCode.OK


def _read(path: Path) -> Lifecycle:
    """The lifecycle in ``path``; every problem is an :class:`InputError` naming the file."""
    import sys

    from modelyard.lifecycle import Lifecycle, MissingGuard

    where = "stdin" if str(path) == "-" else repr(str(path))
    if str(path) == "-":
        text = sys.stdin.read()
    elif not path.is_file():
        raise NotFoundError(f"no file {where}", path=str(path))
    else:
        text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{where} is not JSON: {error}", path=str(path)) from None
    if isinstance(data, dict) and isinstance(data.get("lifecycle"), dict):
        # The whole output of 'lifecycle show --json' (the stored form has no such key).
        data = data["lifecycle"]
    try:
        lifecycle = Lifecycle.from_dict(data)
    except InputError as error:
        raise type(error)(f"{where}: {error}", **error.context) from None
    missing = [
        f"{g.name} ({t.source} -> {t.target})"
        for t in lifecycle.transitions
        for g in t.guards
        if isinstance(g, MissingGuard)
    ] + [f"{g.name} (amend)" for g in lifecycle.amend if isinstance(g, MissingGuard)]
    if missing:
        # Stored, such a guard would refuse every transition it guards: almost always a typo.
        raise InputError(
            f"{where} names guards this modelyard does not have: {', '.join(missing)}; check "
            "their names (docs/lifecycle.md lists the built-in guards) or install the package "
            "that provides them",
            path=str(path),
        )
    return lifecycle


def _set(ctx: Context) -> ExitCode:
    args = ctx.args
    lifecycle = _read(args.file)
    if args.model is not None:
        from modelyard._internal.names import validate_name

        validate_name(args.model, kind="model name")
    scope = f"model {args.model!r}" if args.model is not None else "the yard's default"
    if args.check:
        data: dict[str, Any] = {"model": args.model, "checked": True, "changed": False}
        data["event"] = None
        ctx.out.emit(data, f"{args.file}: a valid lifecycle for {scope} (nothing stored)")
        return ExitCode.OK
    registry = ctx.yard(create=True).registry
    before = len(registry.governance_history(kinds=["lifecycle.set"]))
    entry = registry.set_lifecycle(lifecycle, args.model, reason=args.reason)
    changed = len(registry.governance_history(kinds=["lifecycle.set"])) > before
    data = {
        "model": args.model,
        "checked": True,
        "changed": changed,
        "event": {"seq": entry.seq, "at": entry.at, "actor": entry.actor, "reason": entry.reason},
    }
    verb = "stored" if changed else "unchanged: already in force"
    ctx.out.emit(data, f"{verb}: the lifecycle of {scope} (event {entry.seq} by {entry.actor})")
    return ExitCode.OK
