"""``modelyard drift ...``: profile data, compare it with a reference, monitor it over time."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from modelyard.cli._app import Group
from modelyard.cli._context import Context
from modelyard.cli._drift_data import (
    FORMATS,
    data_format,
    read_data,
    reference,
    row_groups,
    warnings_noted,
    write_whole,
)
from modelyard.cli._exit import ExitCode
from modelyard.cli._output import table, to_jsonable
from modelyard.errors import InputError

__all__ = ["add"]

STATISTICS = ("psi", "kl", "js", "ks", "wasserstein", "chi2")
PRESETS = ("modelyard", "evidently", "nannyml")


def add(group: Group) -> None:
    """Declare the commands of this group."""
    profile = group.command(
        "profile",
        "profile reference data once, for later comparisons",
        _profile,
        description=(
            "Profile DATA (Parquet or CSV) and store the profile in the yard as an artifact (its "
            "id is printed), or write it to a file with --output. Parquet is read one row group "
            "at a time."
        ),
    )
    profile.add_argument("data", metavar="DATA", help="a Parquet or CSV file")
    _format(profile)
    profile.add_argument("--name", help="store the profile under this artifact name")
    profile.add_argument(
        "--sample-size",
        type=_positive,
        metavar="K",
        help="keep a sketch of at most K values per column instead of every value",
    )
    profile.add_argument(
        "--bins", type=_positive, default=10, metavar="B", help="bins for PSI, KL, JS (default 10)"
    )
    _categorical(profile)
    profile.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="write the profile to FILE instead of storing it (compare reads it back)",
    )

    compare = group.command(
        "compare",
        "compare current data with a reference; exit 1 on drift",
        _compare,
        description=(
            "Compare CURRENT (a data file) with REFERENCE (a data file, a profile file, or a "
            "stored profile such as artifacts:/churn-reference@latest) column by column. Exits 1 "
            "when any column drifted (unless --no-fail-on-drift), else 0."
        ),
    )
    _judging(compare)
    compare.add_argument(
        "--store",
        metavar="NAME",
        help="also store the report in the yard as an artifact named NAME",
    )
    compare.add_argument(
        "--fail-on-drift",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="exit 1 when a column drifted (default); --no-fail-on-drift exits 0 with the report",
    )

    monitor = group.command(
        "monitor",
        "judge every window of the data against a reference; exit 1 on alerts",
        _monitor,
        description=(
            "Split CURRENT into windows of time (--time COL --every 1D) or of rows (--rows N) and "
            "compare each with REFERENCE. Exits 1 when there are alerts (a drifted column, a "
            "data-quality error with --quality), else 0."
        ),
    )
    _judging(monitor)
    monitor.add_argument("--time", metavar="COL", help="the time column of CURRENT")
    monitor.add_argument(
        "--every", metavar="LENGTH", help="window length with --time: 15min, 1h, 1D, 1W, 1M"
    )
    monitor.add_argument("--rows", type=_positive, metavar="N", help="windows of N rows")
    monitor.add_argument(
        "--quality", action="store_true", help="also check each window's data quality"
    )


def _format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="the data files' format (default: from their suffix)",
    )


def _categorical(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--categorical",
        nargs="+",
        action="extend",
        default=[],
        metavar="C",
        help="columns to treat as categorical even if numeric",
    )


def _judging(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("reference", metavar="REFERENCE", help="data file, profile file or ref")
    parser.add_argument("current", metavar="CURRENT", help="a Parquet or CSV file")
    _format(parser)
    parser.add_argument(
        "--statistic",
        dest="statistics",
        nargs="+",
        action="extend",
        choices=STATISTICS,
        metavar="S",
        help=f"statistics to compute where they apply ({', '.join(STATISTICS)}; default: all)",
    )
    parser.add_argument(
        "--threshold",
        dest="thresholds",
        nargs="+",
        action="extend",
        type=_threshold,
        default=[],
        metavar="S=V",
        help="a statistic's threshold, e.g. psi=0.2 (a p-value level for ks and chi2)",
    )
    parser.add_argument(
        "--column",
        dest="columns",
        nargs="+",
        action="extend",
        metavar="C",
        help="compare only these columns (default: all; both sides must have the same)",
    )
    _categorical(parser)
    parser.add_argument(
        "--preset",
        choices=PRESETS,
        help="conventions to follow (default: modelyard's); see docs/drift.md",
    )
    parser.add_argument("--html", type=Path, metavar="FILE", help="also write an HTML report")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _threshold(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep or name not in STATISTICS:
        raise argparse.ArgumentTypeError(
            f"expected STATISTIC=VALUE with a statistic of {', '.join(STATISTICS)}, got {text!r}"
        )
    try:
        return name, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r} in {text!r}") from None


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The judging options shared by compare and monitor, as the library's keywords."""
    return {
        "stats": args.statistics,
        "thresholds": dict(args.thresholds) or None,
        "columns": args.columns,
        "config": args.preset,
        "categorical": args.categorical or None,
    }


def _check_html(path: Path | None) -> None:
    # Checked before the work, so a typo in --html does not cost a whole comparison.
    if path is not None and (path.is_dir() or not path.parent.is_dir()):
        raise InputError(f"--html {str(path)!r}: give a file in an existing folder", path=str(path))


# -- profile ---------------------------------------------------------------------------------------


def _profile(ctx: Context) -> ExitCode:
    import modelyard.drift as drift

    args = ctx.args
    path = Path(args.data)
    fmt = data_format(path, args.format)
    if args.output is not None and (args.output.is_dir() or not args.output.parent.is_dir()):
        raise InputError(f"--output {str(args.output)!r}: give a file in an existing folder")
    if args.output is not None and args.name is not None:
        raise InputError("--name names a stored profile; with --output nothing is stored")
    if args.output is None and args.name is not None:
        from modelyard._internal.names import validate_name

        validate_name(args.name, kind="artifact name")
    batches, rows = row_groups(path, fmt, ctx, f"profiling {path.name}")
    with warnings_noted(ctx) as noted:
        result = drift.profile(
            batches,
            bins=args.bins,
            categorical=args.categorical or None,
            sample_size=args.sample_size,
            expected_rows=rows,
        )
    data: dict[str, Any] = {
        "id": None,
        "name": None,
        "output": None,
        "rows": result.rows,
        "columns": dict(result.column_kinds),
        "sample_size": args.sample_size,
        "bins": args.bins,
        "warnings": noted,
    }
    if args.output is not None:
        write_whole(args.output, result.to_bytes())
        data["output"] = str(args.output)
        where = f"wrote the profile to {args.output}"
    else:
        ref = ctx.yard(create=True).artifacts.put(result, name=args.name)
        data["id"], data["name"] = ref.id, ref.name
        where = ref.id
        if ref.name is None:
            ctx.out.note(
                "modelyard: the profile is stored without a name; gc removes it unless something "
                "refers to it (pass --name to keep it)"
            )

    def human() -> str:
        kinds = ", ".join(f"{name} ({kind})" for name, kind in result.column_kinds.items())
        return f"{where}\nprofiled {result.rows} rows, {len(result.column_kinds)} columns: {kinds}"

    ctx.out.emit(data, human)
    return ExitCode.OK


# -- compare ---------------------------------------------------------------------------------------


def _compare(ctx: Context) -> ExitCode:
    import modelyard.drift as drift

    args = ctx.args
    _check_html(args.html)
    if args.store is not None:
        from modelyard._internal.names import validate_name

        validate_name(args.store, kind="artifact name")
    current_path = Path(args.current)
    current_format = data_format(current_path, args.format)
    ref = reference(args.reference, args.format, ctx)
    current = read_data(current_path, current_format)
    with warnings_noted(ctx):
        report = drift.compare(ref.value, current, **_options(args))
    stored = None
    if args.store is not None:
        parents = [ref.artifact] if ref.artifact is not None else []
        stored = ctx.yard(create=True).artifacts.put(report, name=args.store, parents=parents)
    if args.html is not None:
        report.save_html(args.html)
    data: dict[str, Any] = {
        "drifted": report.drifted,
        **report.to_dict(),
        "reference": ref.artifact or ref.shown,
        "current": str(current_path),
        "stored": None if stored is None else stored.id,
        "html": None if args.html is None else str(args.html),
    }

    def human() -> str:
        lines = [report.summary()]
        if stored is not None:
            lines.append(f"stored the report as {stored.id}")
        if args.html is not None:
            lines.append(f"wrote {args.html}")
        return "\n".join(lines)

    ctx.out.emit(data, human)
    return ExitCode.DRIFT if report.drifted and args.fail_on_drift else ExitCode.OK


# -- monitor ---------------------------------------------------------------------------------------


def _windowing(args: argparse.Namespace) -> dict[str, Any]:
    if args.rows is not None:
        if args.time is not None or args.every is not None:
            raise InputError("give either --rows N, or --time COL with --every LENGTH, not both")
        return {"rows": args.rows}
    if args.time is None or args.every is None:
        raise InputError(
            "monitor needs windows: --time COL with --every LENGTH (e.g. --time ts --every 1D), "
            "or --rows N"
        )
    from modelyard.drift._every import parse_every

    parse_every(args.every)  # a bad length is a usage error before any data is read
    return {"time": args.time, "every": args.every}


def _monitor(ctx: Context) -> ExitCode:
    import modelyard.drift as drift

    args = ctx.args
    windowing = _windowing(args)
    _check_html(args.html)
    current_path = Path(args.current)
    current_format = data_format(current_path, args.format)
    ref = reference(args.reference, args.format, ctx)
    current = read_data(current_path, current_format, time=args.time)
    if args.time is not None and args.time not in _names(current):
        raise InputError(
            f"{str(current_path)!r} has no column {args.time!r} (--time); its columns: "
            f"{', '.join(_names(current))}",
            column=args.time,
        )
    with warnings_noted(ctx):
        result = drift.monitor(
            ref.value, current, quality=args.quality, **windowing, **_options(args)
        )
    if args.html is not None:
        result.save_html(args.html)
    alerts = [
        {"window": window, "subject": subject, "reason": reason}
        for window, subject, reason in result.alerts
    ]
    summary = [to_jsonable(row) for row in result.summary().to_dict(orient="records")]
    data: dict[str, Any] = {
        "alerts": alerts,
        "summary": summary,
        **result.model_dump(mode="json"),
        "reference": ref.artifact or ref.shown,
        "current": str(current_path),
        "html": None if args.html is None else str(args.html),
    }

    def human() -> str:
        columns = ["window", "start", "end", "rows", "verdict", "columns"]
        if "quality_errors" in (summary[0] if summary else {}):
            columns.append("quality_columns")
        lines = [
            f"{len(result.windows)} {result.kind} windows of {result.every}, {len(alerts)} alerts",
            table(summary, columns),
        ]
        lines += [f"ALERT window {a['window']} {a['subject']}: {a['reason']}" for a in alerts]
        if args.html is not None:
            lines.append(f"wrote {args.html}")
        return "\n".join(lines)

    ctx.out.emit(data, human)
    return ExitCode.DRIFT if alerts else ExitCode.OK


def _names(data: Any) -> list[str]:
    names = getattr(data, "column_names", None)  # a pyarrow Table
    return [str(n) for n in (names if names is not None else data.columns)]
