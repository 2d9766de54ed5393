"""The Evidently and NannyML presets against values those tools computed.

tests/drift/data/peers_reference.json is written by benchmarks/peers/drift_peers.py (run in an
environment with Evidently and NannyML installed); it holds the data and each tool's results.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import modelyard.drift as drift

DATA = json.loads((Path(__file__).parent / "data" / "peers_reference.json").read_text())


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.DataFrame(DATA["reference"]), pd.DataFrame(DATA["current"])


def _value(report: drift.DriftReport, column: str, statistic: str, field: str = "value") -> Any:
    return getattr(report.column(column).statistic(statistic), field)


def test_evidently_preset_reproduces_evidently(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    ref, cur = frames
    report = drift.compare(
        ref, cur, config="evidently", stats=["psi", "kl", "js", "ks", "wasserstein", "chi2"]
    )
    expected = DATA["evidently"]
    for column in DATA["numeric"]:
        values = expected[column]
        assert _value(report, column, "psi") == pytest.approx(values["psi"], rel=1e-9)
        assert _value(report, column, "kl") == pytest.approx(values["kl"], rel=1e-9)
        assert _value(report, column, "js") == pytest.approx(values["js"], rel=1e-9)
        assert _value(report, column, "wasserstein", "score") == pytest.approx(
            values["wasserstein_normed"], rel=1e-9
        )
        assert _value(report, column, "ks", "p_value") == pytest.approx(
            values["ks_pvalue"], rel=1e-9
        )
    for column in DATA["categorical"]:
        values = expected[column]
        assert _value(report, column, "psi") == pytest.approx(values["psi"], rel=1e-9)
        assert _value(report, column, "kl") == pytest.approx(values["kl"], rel=1e-9)
        assert _value(report, column, "js") == pytest.approx(values["js"], rel=1e-9)
        assert _value(report, column, "chi2", "p_value") == pytest.approx(
            values["chi2_pvalue"], rel=1e-9, abs=1e-300
        )


def test_nannyml_preset_reproduces_nannyml(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    ref, cur = frames
    report = drift.compare(ref, cur, config="nannyml")
    expected = DATA["nannyml"]
    for column in DATA["numeric"]:
        values = expected[column]
        assert _value(report, column, "js") == pytest.approx(values["js"], rel=1e-9)
        assert _value(report, column, "ks") == pytest.approx(values["ks"], abs=1e-12)
        assert _value(report, column, "wasserstein") == pytest.approx(
            values["wasserstein"], rel=1e-9
        )
    for column in DATA["categorical"]:
        values = expected[column]
        assert _value(report, column, "js") == pytest.approx(values["js"], rel=1e-9)
        assert _value(report, column, "chi2") == pytest.approx(values["chi2"], rel=1e-9)
        assert _value(report, column, "chi2", "p_value") == pytest.approx(
            values["chi2_pvalue"], rel=1e-9
        )


def test_default_conventions_differ_where_documented(
    frames: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    ref, cur = frames
    ours = drift.compare(ref, cur)
    # Quantile bins instead of Sturges bins over both samples: a different PSI on the same data.
    assert _value(ours, "shifted", "psi") != pytest.approx(DATA["evidently"]["shifted"]["psi"])
    # Natural log instead of base 2 for JS: scaled by sqrt(ln 2) on the same bins.
    nanny = drift.compare(ref, cur, config="nannyml")
    base_e = drift.compare(
        ref, cur, config=drift.DriftConfig(binning="doane", numeric_stats=("js",))
    )
    assert _value(base_e, "normal", "js") == pytest.approx(
        _value(nanny, "normal", "js") * 0.6931471805599453**0.5, rel=1e-12
    )
