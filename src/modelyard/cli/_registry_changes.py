"""The registry commands that change it: register, alias, transition, approve, rollback, copy.

Each checks its input before the yard is written (the library checks it again, and refuses a
transition with every guard's reason: exit 4, see :mod:`modelyard.cli._failures`).
"""

from __future__ import annotations

from typing import Any

from modelyard.cli._app import Group
from modelyard.cli._context import Context
from modelyard.cli._exit import ExitCode
from modelyard.cli._registry_render import MODEL_SCHEME, describe_version
from modelyard.cli._values import as_dict, float_pair, positive_int, text_pair

__all__ = ["add"]


def add(group: Group) -> None:
    register = group.command(
        "register",
        "register an artifact as a new version of a model",
        _register,
        description=(
            "Register the artifact ARTIFACT_REF names (artifacts:/churn-model@latest, "
            "sha256:..., churn-model:1a2b3c) as the next version of NAME."
        ),
    )
    register.add_argument("name", metavar="NAME")
    register.add_argument("artifact", metavar="ARTIFACT_REF")
    register.add_argument(
        "--metric", action="append", type=float_pair, metavar="KEY=NUMBER", help="(repeatable)"
    )
    register.add_argument(
        "--tag", action="append", type=text_pair, metavar="KEY=VALUE", help="(repeatable)"
    )
    register.add_argument("--description", default="", help="what this version is")

    alias = group.command(
        "alias",
        "point an alias at a version, bind it to a stage, or remove it",
        _alias,
        description=(
            "Point ALIAS of NAME at VERSION; with --follow STAGE bind it to the stage's holder; "
            "with --delete remove it."
        ),
    )
    alias.add_argument("name", metavar="NAME")
    alias.add_argument("alias", metavar="ALIAS")
    alias.add_argument("version", metavar="VERSION", type=positive_int, nargs="?")
    how = alias.add_mutually_exclusive_group()
    how.add_argument("--follow", metavar="STAGE", help="follow the holder of this stage")
    how.add_argument("--delete", action="store_true", help="remove the alias")
    alias.add_argument("--reason", default="", help="why (recorded)")

    transition = group.command(
        "transition",
        "move a version to a lifecycle stage (guards decide)",
        _transition,
        description=(
            "Move VERSION of NAME to STAGE. A guard that refuses ends the command with exit 4 "
            "and every guard's reason; nothing is written then."
        ),
    )
    transition.add_argument("name", metavar="NAME")
    transition.add_argument("version", metavar="VERSION", type=positive_int)
    transition.add_argument("stage", metavar="STAGE")
    transition.add_argument("--reason", required=True, help="why (recorded in the history)")

    approve = group.command(
        "approve", "sign off moving exactly this version to exactly this stage", _approve
    )
    approve.add_argument("name", metavar="NAME")
    approve.add_argument("version", metavar="VERSION", type=positive_int)
    approve.add_argument("stage", metavar="STAGE")
    approve.add_argument("--role", help="the role approving (the yard's governance checks it)")
    approve.add_argument("--comment", default="", help="recorded with the approval")

    rollback = group.command(
        "rollback",
        "give an exclusive stage back to its previous holder",
        _rollback,
        description=(
            "Give STAGE of NAME back to its previous holder (or to --version). Guards do not "
            "apply: this is the lever for an incident; the history records who and why."
        ),
    )
    rollback.add_argument("name", metavar="NAME")
    rollback.add_argument("stage", metavar="STAGE")
    rollback.add_argument("--reason", default="", help="why (recorded)")
    rollback.add_argument(
        "--version", dest="to_version", type=positive_int, metavar="N", help="restore version N"
    )

    copy = group.command(
        "copy",
        "copy a version (and what it was made from) into another yard",
        _copy,
        description=(
            "Copy the version REF names into the yard at URL (created if there is none): "
            "its artifact and lineage move by content hash, verified; the destination records "
            "where it came from. Copying the same version again copies nothing."
        ),
    )
    copy.add_argument("ref", metavar="REF", help="e.g. models:/churn@champion, churn/3")
    copy.add_argument("--to", required=True, metavar="URL", help="the destination yard")
    copy.add_argument("--name", help="the model's name there (default: the same)")
    copy.add_argument("--reason", default="", help="why (recorded in the destination)")


def _register(ctx: Context) -> ExitCode:
    from modelyard._internal.names import validate_name
    from modelyard._internal.references import parse_reference

    args = ctx.args
    validate_name(args.name, kind="model name")
    # With its scheme the string is an artifact wherever it is read: a command line has no
    # Python object to register, so ARTIFACT_REF is always one (models:/... is refused here).
    artifact = str(parse_reference(args.artifact, expect="artifact"))
    metrics = as_dict(args.metric, "--metric")
    tags = as_dict(args.tag, "--tag")
    # The artifact must be stored already, so a location without a yard is a typo: not found,
    # and no new empty yard is left behind.
    yard = ctx.yard()
    version = yard.registry.register(
        args.name,
        artifact,
        metrics=metrics,  # type: ignore[arg-type]  # as_dict keeps the floats float_pair made
        tags=tags,  # type: ignore[arg-type]
        description=args.description,
    )
    ctx.out.emit(
        {"version": describe_version(version)},
        f"registered {version.ref} ({version.state}) from {version.artifact}",
    )
    return ExitCode.OK


def _alias(ctx: Context) -> ExitCode:
    from modelyard.errors import InputError

    args = ctx.args
    if args.delete or args.follow:
        if args.version is not None:
            raise InputError(
                "give VERSION, --follow STAGE or --delete, not VERSION with one of the others"
            )
    elif args.version is None:
        raise InputError(
            f"say where {args.alias!r} points: give VERSION, --follow STAGE, or --delete"
        )
    registry = ctx.yard().registry
    data: dict[str, Any] = {"name": args.name, "alias": args.alias}
    if args.delete:
        registry.delete_alias(args.name, args.alias, reason=args.reason)
        data.update(version=None, follows=None, deleted=True)
        text = f"removed {args.name}@{args.alias}"
    else:
        if args.follow:
            version = registry.set_alias(
                args.name, args.alias, follow=args.follow, reason=args.reason
            )
        else:
            target: int = ctx.args.version  # given: checked above
            version = registry.set_alias(args.name, args.alias, target, reason=args.reason)
        number = version.version if version is not None else None
        data.update(version=number, follows=args.follow, deleted=False)
        where = f"v{number}" if number is not None else "nothing yet"
        text = f"{args.name}@{args.alias} -> {where}"
        if args.follow:
            text += f" (follows {args.follow})"
    ctx.out.emit(data, text)
    return ExitCode.OK


def _transition(ctx: Context) -> ExitCode:
    args = ctx.args
    registry = ctx.yard().registry
    before = registry.version(args.name, args.version).state
    version = registry.transition(args.name, args.version, args.stage, reason=args.reason)
    # The entry that moved this version into its new state: the newest of its transitions.
    mine = [
        e
        for e in registry.history(args.name, kinds={"transition"})
        if e.version == args.version and e.target == version.state
    ]
    entry = mine[-1] if mine else None
    data: dict[str, Any] = {
        "version": describe_version(version),
        "from": before,
        "to": version.state,
        "changes": [
            {"version": c.version, "from": c.source, "to": c.target}
            for c in (entry.changes if entry else ())
        ],
        "guards": [
            {"guard": r.guard, "ok": r.ok, "reason": r.reason}
            for r in (entry.results if entry else ())
        ],
    }

    def human() -> str:
        lines = [f"{version.ref}: {before} -> {version.state}"]
        lines += [
            f"  displaced v{c['version']}: {c['from']} -> {c['to']}" for c in data["changes"][1:]
        ]
        lines += [f"  passed  {g['guard']}: {g['reason']}" for g in data["guards"]]
        return "\n".join(lines)

    ctx.out.emit(data, human)
    return ExitCode.OK


def _approve(ctx: Context) -> ExitCode:
    args = ctx.args
    approval = ctx.yard().registry.approve(
        args.name, args.version, args.stage, role=args.role, comment=args.comment
    )
    data: dict[str, Any] = {
        "name": args.name,
        "version": approval.version,
        "stage": approval.target,
        "actor": approval.actor,
        "role": approval.role,
        "at": approval.at.isoformat(),
        "comment": approval.comment,
    }
    ctx.out.emit(
        data, f"{approval.actor} approved {args.name}/{approval.version} for {approval.target}"
    )
    return ExitCode.OK


def _rollback(ctx: Context) -> ExitCode:
    args = ctx.args
    version = ctx.yard().registry.rollback(
        args.name, args.stage, reason=args.reason, version=args.to_version
    )
    ctx.out.emit(
        {"version": describe_version(version), "stage": args.stage},
        f"{args.stage} of {args.name} is {version.ref} again",
    )
    return ExitCode.OK


def _copy(ctx: Context) -> ExitCode:
    from modelyard.yard import open_yard

    args = ctx.args
    source = ctx.yard()
    destination = open_yard(args.to, create=True, actor=ctx.actor)
    result = source.registry.copy(
        args.ref, to=destination, name=args.name, actor=ctx.actor, reason=args.reason
    )
    moved = result.transfer
    data: dict[str, Any] = {
        "created": result.created,
        "version": describe_version(result.version),
        "to": args.to,
        "source": f"{MODEL_SCHEME}{result.version.provenance.ref}"
        if result.version.provenance is not None
        else None,
        "blobs": moved.blobs if moved is not None else 0,
        "bytes": moved.bytes if moved is not None else 0,
    }
    ctx.out.emit(data, f"{result} in {args.to}")
    return ExitCode.OK
