"""``modelyard registry watch``: the yard's events as they are committed.

The one command whose ``--json`` output is not one document: it prints one JSON object per line
(JSON Lines), an event per line as it arrives, and a last line ``{"cursor": "..."}`` that
``--since`` resumes from. A watch from now that sees no event prints the cursor it started from,
so that the next run misses nothing in between. A consumer reads line by line and never waits for
the end.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from modelyard.cli._app import Group
from modelyard.cli._context import Context
from modelyard.cli._exit import ExitCode
from modelyard.cli._output import to_jsonable
from modelyard.cli._values import positive_int, seconds

if TYPE_CHECKING:
    from modelyard.registry import FeedEvent

__all__ = ["add"]


def add(group: Group) -> None:
    watch = group.command(
        "watch",
        "print the yard's events as they are committed",
        _watch,
        description=(
            "Print every model's events as they are committed, from now on (or after --since "
            "CURSOR), until interrupted, --count events or --timeout seconds. --once prints the "
            "events already in the feed and stops. With --json: one JSON object per line, and "
            'a last line {"cursor": ...} to resume from with --since.'
        ),
    )
    until = watch.add_mutually_exclusive_group()
    until.add_argument(
        "--once", action="store_true", help="print what is in the feed now (from the start)"
    )
    until.add_argument("--count", type=positive_int, metavar="N", help="stop after N events")
    watch.add_argument("--timeout", type=seconds, metavar="S", help="stop after S seconds")
    watch.add_argument("--since", metavar="CURSOR", help="resume after this cursor")
    watch.add_argument(
        "--poll", type=seconds, default=1.0, metavar="S", help="seconds between polls (1)"
    )


def _item(event: FeedEvent) -> dict[str, Any]:
    return {
        "model": event.model,
        "seq": event.seq,
        "kind": event.kind,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "reason": event.reason,
        "data": to_jsonable(event.data),
        "cursor": event.cursor,
    }


def _line(ctx: Context, data: dict[str, Any], human: str) -> None:
    stream = ctx.out.stdout
    stream.write((json.dumps(data, sort_keys=False) if ctx.out.json else human) + "\n")
    stream.flush()


def _human(event: FeedEvent) -> str:
    when = event.at.strftime("%Y-%m-%d %H:%M:%S")
    version = event.data.get("version") if isinstance(event.data, Mapping) else None
    what = f"{event.kind} v{version}" if isinstance(version, int) else event.kind
    why = f" ({event.reason})" if event.reason else ""
    return f"{when} {event.model} #{event.seq} {event.actor}: {what}{why}"


def _watch(ctx: Context) -> ExitCode:
    args = ctx.args
    registry = ctx.yard().registry
    events: Iterable[FeedEvent]
    cursor = args.since
    if args.once:
        page = registry.events(args.since)
        events, cursor = page.events, page.cursor
    else:
        # From now: the cursor of now, taken first, is printed at the end even if no event came.
        cursor = args.since if args.since is not None else registry.feed_cursor()
        events = registry.watch(cursor, poll=args.poll, timeout=args.timeout)
    seen = 0
    try:
        for event in events:
            _line(ctx, _item(event), _human(event))
            cursor, seen = event.cursor, seen + 1
            if args.count is not None and seen >= args.count:
                break
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()
    if cursor is not None:
        _line(ctx, {"cursor": cursor}, f"(resume with --since {cursor})")
    return ExitCode.OK
