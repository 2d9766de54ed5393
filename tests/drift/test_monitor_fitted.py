"""Thresholds fitted from windows of the reference: equal to a naive loop of compare() over the
reference windows, and outside the band about as often as the statistics' nulls say."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import modelyard.drift as drift
from modelyard.errors import InputError, NotFoundError

FOUR = ["psi", "js", "ks", "wasserstein"]


def _frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "counts": rng.poisson(3, n).astype(float),
            "city": rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1]),
        }
    )


def test_bands_equal_mean_and_sd_of_compare_over_the_reference_windows() -> None:
    rng = np.random.default_rng(31)
    reference = _frame(rng, 6000)
    live = _frame(rng, 3000)
    live.loc[2000:, "x"] += 0.5
    result = drift.monitor(reference, live, rows=1000, stats=FOUR, fitted=True)
    assert result.fitted is not None and result.fitted.k == 3.0
    prof = drift.profile(reference)
    cut = drift.windows(reference, rows=1000)
    assert result.fitted.reference_windows == len(cut) == 6
    loop: dict[tuple[str, str], list[float]] = {}
    for w in range(len(cut)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = drift.compare(prof, reference.iloc[cut.indices(w)], stats=FOUR)
        for column in report.columns:
            for s in column.statistics:
                assert s.value is not None
                loop.setdefault((column.name, s.statistic), []).append(s.value)
    assert {(b.column, b.statistic) for b in result.fitted.bands} == set(loop)
    for (column, statistic), values in loop.items():
        band = result.fitted.band(column, statistic)
        mean, sd = float(np.mean(values)), float(np.std(values))
        limit = {"ks": 1.0, "js": math.sqrt(math.log(2.0))}.get(statistic, math.inf)
        assert band.mean == pytest.approx(mean, rel=1e-12, abs=1e-15)
        assert band.sd == pytest.approx(sd, rel=1e-9, abs=1e-15)
        assert band.lower == pytest.approx(max(mean - 3 * sd, 0.0), rel=1e-9, abs=1e-15)
        assert band.upper == pytest.approx(min(mean + 3 * sd, limit), rel=1e-9, abs=1e-15)
        assert band.windows == 6
    # Beside the verdicts, never instead of them.
    plain = drift.monitor(reference, live, rows=1000, stats=FOUR)
    assert result.windows == plain.windows and result.alerts == plain.alerts
    outside = result.outside_fitted
    naive = []
    for w in result.windows:
        for c in w.columns:
            for s in c.statistics:
                band = result.fitted.band(c.name, s.statistic)
                assert s.value is not None and band.lower is not None and band.upper is not None
                if not band.lower <= s.value <= band.upper:
                    naive.append((w.window, c.name, s.statistic, s.value))
    assert outside == naive
    assert {(2, "x", s) for s in FOUR} <= {(w, c, s) for w, c, s, _ in outside}
    counts = [sum(1 for o in outside if o[0] == w) for w in range(3)]
    assert result.summary()["outside_fitted"].tolist() == counts
    table = result.to_pandas()
    assert table["outside_fitted"].sum() == len(outside)
    row = table[(table.window == 2) & (table.column == "x") & (table.statistic == "psi")]
    assert row["fitted_upper"].item() == result.fitted.band("x", "psi").upper
    assert drift.Monitoring.from_bytes(result.to_bytes()) == result
    with pytest.raises(NotFoundError):
        result.fitted.band("x", "chi2")
    assert "outside_fitted" not in plain.to_pandas() and plain.outside_fitted == []


def test_time_windows_of_the_reference_and_given_ones() -> None:
    rng = np.random.default_rng(32)
    reference = _frame(rng, 4000).assign(ts=pd.date_range("2026-01-01", periods=4000, freq="216s"))
    live = _frame(rng, 2000).assign(ts=pd.date_range("2026-03-01", periods=2000, freq="216s"))
    by_time = drift.monitor(reference, live, time="ts", every="1D", stats=FOUR, fitted=2)
    assert by_time.fitted is not None and by_time.fitted.reference_windows == 10
    assert by_time.fitted.k == 2.0
    assert "ts" not in [c.name for c in by_time.windows[0].columns]
    cut = drift.windows(reference, time="ts", every="1D")
    given = drift.monitor(
        reference.drop(columns=["ts"]).assign(ts=reference["ts"]),
        live,
        time="ts",
        every="1D",
        stats=FOUR,
        fitted=2,
        reference_windows=cut,
    )
    assert given.fitted == by_time.fitted
    # Count windows of the data, a reference without the time column: cut by rows.
    by_rows = drift.monitor(
        reference.drop(columns=["ts"]), live.drop(columns=["ts"]), rows=400, fitted=True
    )
    assert by_rows.fitted is not None and by_rows.fitted.reference_windows == 10


def test_fitted_arguments_are_checked_up_front() -> None:
    rng = np.random.default_rng(33)
    reference = _frame(rng, 2000)
    live = _frame(rng, 1000).assign(ts=pd.date_range("2026-03-01", periods=1000, freq="h"))
    with pytest.raises(InputError, match="a profile holds no rows"):
        drift.monitor(drift.profile(reference), live, rows=500, fitted=True)
    with pytest.raises(InputError, match="no time column 'ts'"):
        drift.monitor(reference, live, time="ts", every="1D", fitted=True)
    with pytest.raises(InputError, match="pass fitted=True too"):
        drift.monitor(
            reference, live, rows=500, reference_windows=drift.windows(reference, rows=500)
        )
    with pytest.raises(InputError, match="built over 1000 rows"):
        drift.monitor(
            reference, live, rows=500, fitted=True, reference_windows=drift.windows(live, rows=5)
        )
    with pytest.raises(InputError, match=r"reference_windows=drift\.windows"):
        drift.monitor(reference, live, windows=drift.windows(live, rows=500), fitted=True)
    for bad in (0, -1.0, math.nan, "3"):
        with pytest.raises(InputError, match="positive number"):
            drift.monitor(reference, live, rows=500, fitted=bad)  # type: ignore[arg-type]


def test_a_band_needs_two_reference_windows() -> None:
    rng = np.random.default_rng(34)
    reference, live = _frame(rng, 500), _frame(rng, 1000)
    result = drift.monitor(reference, live, rows=1000, stats=["psi"], fitted=True)
    band = result.fitted.band("x", "psi") if result.fitted else None
    assert band is not None and band.windows == 1
    assert band.lower is None and band.upper is None and band.mean is None
    assert result.outside_fitted == []


@pytest.mark.slow
@pytest.mark.parametrize("k", [2.0, 3.0])
def test_share_outside_the_band_under_no_change_matches_the_null(k: float) -> None:
    """Reference and data from one distribution: the share of windows outside ``mean +- k sd``
    is the tail of each statistic's null beyond that point (PSI on 10 bins ~ chi-square(9);
    sqrt(n) KS ~ Kolmogorov), here 4.2 % at k = 2 and 0.9 % at k = 3; not the 4.6 % and
    0.27 % of a normal, since both nulls are skewed."""
    expected = {
        "psi": sps.chi2.sf(9 + k * math.sqrt(18), 9),
        "ks": sps.kstwobign.sf(sps.kstwobign.mean() + k * sps.kstwobign.std()),
    }
    found: dict[str, list[float]] = {"psi": [], "ks": []}
    for seed in range(8):
        rng = np.random.default_rng(100 + seed)
        reference = {"x": rng.normal(size=200 * 500)}
        live = {"x": rng.normal(size=400 * 500)}
        result = drift.monitor(reference, live, rows=500, stats=["psi", "ks"], fitted=k)
        for statistic in found:
            outside = [o for o in result.outside_fitted if o[2] == statistic]
            found[statistic].append(len(outside) / 400)
    tolerance = 0.015 if k == 2.0 else 0.006
    for statistic, shares in found.items():
        assert abs(float(np.mean(shares)) - expected[statistic]) <= tolerance, (statistic, shares)
