"""NannyML's univariate drift calculator and modelyard on the same windows: values and timings.

Both tools see the same reference and the same analysis data, cut into the same windows: NannyML
chunks by period (``chunk_period="D"``) or by size (``chunk_size``), modelyard cuts with
``drift.windows(..., every="1D")`` or ``drift.windows(..., rows=...)``. Per window and column the
script compares Jensen-Shannon (base 2 on Doane bins of the reference, NannyML's exact
definition), chi-square (statistic and p-value) and Wasserstein (NannyML's exact mode,
``calculation_method="exact"``, checked after fitting), prints the largest difference per
statistic, and exits with status 1 if any differs by more than 1e-9 both absolutely and
relatively (as ``pytest.approx(x, rel=1e-9, abs=1e-9)``). It then prints both timings and their
ratio. JS close to 0 (about 1e-4, windows like the reference) agrees to about 1e-13 absolutely but
only about 2e-9 relatively: it is the square root of a small difference of sums, and both tools
are that far from the same computation in extended precision.

One difference is expected and reported apart: on a column with two categories NannyML's
chi-square carries Yates' continuity correction (scipy's ``chi2_contingency`` applies it by default
at one degree of freedom) and modelyard's ``"nannyml"`` preset does not. For those columns the
script also runs scipy on NannyML's own contingency table without the correction, and that must
match to 1e-9.

It imports modelyard, so it runs in the peers' environment with modelyard installed in it too::

    python -m venv /tmp/peers
    /tmp/peers/bin/pip install -r benchmarks/peers/requirements-drift.txt -e .
    /tmp/peers/bin/python benchmarks/peers/drift_windows.py            # 1,000,000 x 20, 10 days
    /tmp/peers/bin/python benchmarks/peers/drift_windows.py --by size  # 10 windows of 100,000 rows
    /tmp/peers/bin/python benchmarks/peers/drift_windows.py --rows 20000 --reference-rows 5000

The data: 16 numeric columns (normal, lognormal, Student t, Poisson counts with many ties, values
on a grid of quarters, normal with 5 % missing values, uniform) and 4 string columns (one with
two categories), with a ``ts`` time column; the analysis rows are in time order. In the middle
third of the days several columns shift, values leave the reference range and one string column
takes a category the reference never had. Both tools drop missing values before computing.

Timings: "fit" is NannyML's ``fit`` (which also computes every statistic on the reference's
own chunks, for its thresholds) against modelyard's ``profile``; "windows" is NannyML's
``calculate`` against cutting the windows and one ``drift.monitor`` of all of them (a single
counting and sorting pass over every window, not a loop of ``compare``). modelyard uses its
default threads (one per CPU, at most 4); NannyML runs on one.
"""

from __future__ import annotations

import os

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")

import argparse
import sys
import time
import warnings
from importlib.metadata import version
from typing import Any

import numpy as np
import pandas as pd

import modelyard.drift as drift

NUMERIC = [f"x{i}" for i in range(16)]
CATEGORICAL = ["two", "three", "five", "new"]
FEATURES = NUMERIC + CATEGORICAL
# The statistics both tools compute here (modelyard's names); NannyML's KS is left out.
STATISTICS = ["js", "wasserstein", "chi2"]
TOLERANCE = 1e-9


def _columns(rng: np.random.Generator, n: int, shift: np.ndarray) -> dict[str, Any]:
    # `shift` is 0 outside a drift episode, so the same generator makes reference and analysis.
    out: dict[str, Any] = {}
    kinds = [
        lambda: rng.normal(size=n) + shift,
        lambda: rng.normal(size=n),
        lambda: rng.lognormal(size=n) * (1 + shift),
        lambda: rng.standard_t(3, size=n),
        lambda: rng.poisson(2 + 2 * shift, size=n).astype(np.int64),
        lambda: np.round(rng.normal(size=n) * 4 + shift * 4) / 4,
        lambda: np.where(rng.random(n) < 0.05, np.nan, rng.normal(size=n)),
        lambda: rng.uniform(-1, 1 + shift, size=n),
    ]
    for i, column in enumerate(NUMERIC):
        out[column] = kinds[i % len(kinds)]()
    out["two"] = np.where(rng.random(n) < 0.3 + 0.1 * shift, "yes", "no")
    out["three"] = rng.choice(np.array(["a", "b", "c"]), p=[0.5, 0.3, 0.2], size=n)
    out["five"] = rng.choice(np.array(["v", "w", "x", "y", "z"]), size=n)
    new = rng.choice(np.array(["p", "q", "r"]), size=n)
    out["new"] = np.where(rng.random(n) < 0.02 * shift, "s", new)
    return out


def make_data(rows: int, reference_rows: int, days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference over the `days` days before the analysis; analysis over `days` days, in time
    order, with a drift episode in the middle third of its days."""
    rng = np.random.default_rng(12)
    start = np.datetime64("2026-03-01T00:00:00", "ns")
    span = int(np.timedelta64(days, "D").astype("timedelta64[ns]").astype(np.int64))

    def times(n: int, origin: np.datetime64) -> np.ndarray:
        # n evenly spaced instants over the span (float steps: n * span overflows int64)
        steps = (np.arange(n) * (span / n)).astype(np.int64)
        return origin + steps.astype("timedelta64[ns]")

    reference = pd.DataFrame(_columns(rng, reference_rows, np.zeros(reference_rows)))
    reference["ts"] = times(reference_rows, start - np.timedelta64(days, "D"))
    ts = times(rows, start)
    day = (ts - start) // np.timedelta64(1, "D")
    shift = np.where((day >= days // 3) & (day < 2 * days // 3), 0.2, 0.0)
    analysis = pd.DataFrame(_columns(rng, rows, shift))
    analysis["ts"] = ts
    return reference, analysis


def modelyard_windows(
    profile: drift.DriftProfile, analysis: pd.DataFrame, windows: drift.Windows
) -> pd.DataFrame:
    """modelyard's side: one row per window, column and statistic (window, column, statistic,
    value, p_value), from one ``drift.monitor`` over every window (windows without rows left
    out: NannyML makes no chunk for a period without rows)."""
    result = drift.monitor(
        profile,
        analysis,
        windows=windows,
        config="nannyml",
        stats=STATISTICS,
        columns=FEATURES,
    )
    table = result.to_pandas()[["window", "column", "statistic", "value", "p_value"]]
    empty = np.flatnonzero(windows.rows == 0)
    return table[~table["window"].isin(empty)].reset_index(drop=True)


def nannyml_calculator(by: str, window_rows: int) -> Any:
    from nannyml.drift import UnivariateDriftCalculator

    chunking: dict[str, Any] = (
        {"chunk_period": "D", "timestamp_column_name": "ts"}
        if by == "period"
        else {"chunk_size": window_rows}
    )
    # NannyML 0.13 reads the exact mode only when the method's name is also a key of
    # computation_params, but takes "calculation_method" from the top level; this form satisfies
    # both readings, and exact_wasserstein() checks that it took.
    exact = {"calculation_method": "exact"}
    return UnivariateDriftCalculator(
        column_names=FEATURES,
        continuous_methods=["jensen_shannon", "wasserstein"],
        categorical_methods=["jensen_shannon", "chi2"],
        computation_params={"wasserstein": exact, **exact},
        **chunking,
    )


def exact_wasserstein(calculator: Any) -> None:
    modes = {
        method.calculation_method
        for methods in calculator._column_to_models_mapping.values()
        for method in methods
        if method.column_name == "wasserstein"
    }
    if modes != {"exact"}:
        raise SystemExit(f"NannyML's Wasserstein runs in mode {modes}, not exact")


def nannyml_table(calculator: Any, result: Any, analysis: pd.DataFrame) -> pd.DataFrame:
    """NannyML's values in the same tidy shape, with the chunks' bounds.

    The calculator's result keeps only the chi-square statistic, so the p-value comes from the
    fitted Chi2Statistic on the same chunk, through its own contingency table. On that table the
    test is also run without Yates' continuity correction, which scipy's ``chi2_contingency``
    applies by default when there is one degree of freedom (two categories) and modelyard's preset
    does not: those columns are compared both ways.
    """
    from nannyml.base import _remove_nans
    from nannyml.drift.univariate.methods import Chi2Statistic
    from scipy.stats import chi2_contingency

    frame = result.filter(period="analysis").to_df()
    records = []
    names = {"jensen_shannon": "js", "wasserstein": "wasserstein", "chi2": "chi2"}
    chunks = calculator.chunker.split(analysis)
    assert len(chunks) == len(frame), (len(chunks), len(frame))
    for index, chunk in enumerate(chunks):
        for column in FEATURES:
            for method in calculator._column_to_models_mapping[column]:
                record = {
                    "chunk": index,
                    "start_index": chunk.start_index,
                    "rows": len(chunk.data),
                    "start": chunk.start_datetime,
                    "column": column,
                    "statistic": names[method.column_name],
                    "value": float(frame[(column, method.column_name, "value")].iloc[index]),
                }
                if isinstance(method, Chi2Statistic):
                    data = _remove_nans(chunk.data[column])
                    statistic, record["p_value"] = method._calc_chi2(data)
                    assert statistic == record["value"]
                    counts = data.value_counts().loc[lambda v: v != 0]
                    table = pd.concat([method._reference_data_vcs, counts], axis=1).fillna(0)
                    plain = chi2_contingency(table, correction=False)
                    record["dof"] = int(plain.dof)
                    record["value_no_yates"] = float(plain.statistic)
                    record["p_value_no_yates"] = float(plain.pvalue)
                records.append(record)
    return pd.DataFrame.from_records(records)


def align(
    theirs: pd.DataFrame, ours: pd.DataFrame, windows: drift.Windows, by: str
) -> pd.DataFrame:
    """Pair NannyML's chunks with modelyard's non-empty windows, checking that they hold the same
    rows (same count, same first row or same start time)."""
    kept = [w for w in range(len(windows)) if windows.rows[w] > 0]
    chunks = theirs.drop_duplicates("chunk").set_index("chunk")
    if len(chunks) != len(kept):
        raise SystemExit(f"NannyML made {len(chunks)} chunks, modelyard {len(kept)} windows")
    for chunk, window in zip(chunks.index, kept, strict=True):
        same_rows = chunks.loc[chunk, "rows"] == windows.rows[window]
        if by == "period":
            same_start = pd.Timestamp(chunks.loc[chunk, "start"]) == pd.Timestamp(
                windows.start[window]
            )
        else:
            same_start = chunks.loc[chunk, "start_index"] == windows.start[window]
        if not (same_rows and same_start):
            raise SystemExit(f"chunk {chunk} and window {window} do not hold the same rows")
    theirs = theirs.assign(window=theirs["chunk"].map(dict(zip(chunks.index, kept, strict=True))))
    return theirs.merge(
        ours, on=["window", "column", "statistic"], suffixes=("_nannyml", "_modelyard")
    )


def differences(paired: pd.DataFrame) -> bool:
    """Print the largest difference per statistic; True when every pair that should be equal is
    within tolerance."""
    ok = True
    chi2 = paired["statistic"] == "chi2"
    yates = chi2 & (paired["dof"] == 1)
    print(f"largest difference per statistic, over {paired['window'].nunique()} windows:")
    rows = [
        ("Jensen-Shannon (base 2, Doane bins)", paired["statistic"] == "js", "value", True),
        ("Wasserstein (exact)", paired["statistic"] == "wasserstein", "value", True),
        ("chi-square statistic, 3+ categories", chi2 & ~yates, "value", True),
        ("chi-square p-value, 3+ categories", chi2 & ~yates, "p_value", True),
        ("chi-square statistic, 2 categories", yates, "value", False),
        ("chi-square p-value, 2 categories", yates, "p_value", False),
        ("  same without Yates' correction", yates, "value_no_yates", True),
        ("  p-value without Yates' correction", yates, "p_value_no_yates", True),
    ]
    for label, mask, field, must_equal in rows:
        part = paired[mask]
        if part.empty:
            continue
        theirs = part[f"{field}_nannyml" if field in ("value", "p_value") else field]
        ours_field = field.replace("_no_yates", "") + "_modelyard"
        theirs_values = theirs.to_numpy(dtype=float)
        ours = part[ours_field].to_numpy(dtype=float)
        absolute = np.abs(theirs_values - ours)
        relative = absolute / np.maximum(np.abs(theirs_values), np.finfo(float).tiny)
        # As pytest.approx(rel=1e-9): relative, or absolute for values that are ~0.
        bad = (absolute > TOLERANCE) & (relative > TOLERANCE)
        verdict = "ok" if not bad.any() else ("DIFFERENT" if must_equal else "differ (Yates)")
        print(
            f"  {label:<38} {len(part):5d} values  max abs {absolute.max():9.3g}  "
            f"max rel {relative.max():9.3g}  {verdict}"
        )
        if bad.any() and must_equal:
            ok = False
            worst = int(np.argmax(np.where(bad, relative, 0.0)))
            row = part.iloc[worst]
            print(
                f"    worst: window {row['window']}, column {row['column']}: "
                f"NannyML {theirs_values[worst]!r}, modelyard {ours[worst]!r}"
            )
    return ok


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="analysis rows")
    parser.add_argument("--reference-rows", type=int, default=1_000_000)
    parser.add_argument("--windows", type=int, default=10, help="days, or windows of rows")
    parser.add_argument("--by", choices=["period", "size"], default="period")
    args = parser.parse_args(argv)
    window_rows = -(-args.rows // args.windows)

    reference, analysis = make_data(args.rows, args.reference_rows, args.windows)
    print(
        f"NannyML {version('nannyml')} and modelyard {version('modelyard')}: reference "
        f"{len(reference):,} rows, analysis {len(analysis):,} x {len(FEATURES)} "
        f"({len(NUMERIC)} numeric, {len(CATEGORICAL)} categorical), windows by {args.by}"
    )

    # NannyML warns when the reference makes few chunks of the analysis' size; it fits its
    # thresholds on them, which this comparison does not use.
    warnings.filterwarnings("ignore", message="The resulting number of chunks is too low")
    calculator = nannyml_calculator(args.by, window_rows)
    start = time.perf_counter()
    calculator.fit(reference)
    nannyml_fit = time.perf_counter() - start
    exact_wasserstein(calculator)
    start = time.perf_counter()
    result = calculator.calculate(analysis)
    nannyml_windows = time.perf_counter() - start

    start = time.perf_counter()
    profile = drift.profile(reference[FEATURES], binning="doane")
    modelyard_fit = time.perf_counter() - start
    start = time.perf_counter()
    windows = (
        drift.windows(analysis, time="ts", every="1D")
        if args.by == "period"
        else drift.windows(analysis, rows=window_rows)
    )
    ours = modelyard_windows(profile, analysis, windows)
    modelyard_time = time.perf_counter() - start

    paired = align(nannyml_table(calculator, result, analysis), ours, windows, args.by)
    ok = differences(paired)

    print("seconds (same run):")
    print(f"  {'':<10} {'NannyML':>9} {'modelyard':>10} {'ratio':>8}")
    for label, theirs, mine in [
        ("fit", nannyml_fit, modelyard_fit),
        ("windows", nannyml_windows, modelyard_time),
        ("total", nannyml_fit + nannyml_windows, modelyard_fit + modelyard_time),
    ]:
        print(f"  {label:<10} {theirs:9.2f} {mine:10.2f} {theirs / mine:7.1f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
