"""``modelyard drift profile|compare|monitor`` through the installed console script."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import modelyard as my
import modelyard.drift as drift
from tests.cli._run import run, run_json, run_on_terminal

pytestmark = pytest.mark.timeout(300)


def _frame(seed: int, rows: int = 2_000, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(40 + shift, 10, rows),
            "plan": rng.choice(["basic", "plus", "pro"], rows),
        }
    )


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """A reference in Parquet (several row groups) and CSV, a stable and a drifted batch."""
    reference = _frame(1)
    paths = {
        "reference": tmp_path / "reference.parquet",
        "reference_csv": tmp_path / "reference.csv",
        "stable": tmp_path / "stable.csv",
        "drifted": tmp_path / "drifted.parquet",
    }
    pq.write_table(pa.Table.from_pandas(reference), paths["reference"], row_group_size=500)
    reference.to_csv(paths["reference_csv"], index=False)
    _frame(2).to_csv(paths["stable"], index=False)
    pq.write_table(pa.Table.from_pandas(_frame(3, shift=8.0)), paths["drifted"])
    return paths


# -- profile ---------------------------------------------------------------------------------------


def test_profile_streams_parquet_into_a_stored_artifact_equal_to_the_librarys(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    yard_path = tmp_path / "yard"
    code, data = run_json(
        "drift", "profile", str(files["reference"]), "--name", "churn-ref", yard=yard_path
    )
    assert code == 0, data
    assert data["name"] == "churn-ref" and data["rows"] == 2_000
    assert data["columns"] == {"age": "numeric", "plan": "categorical"}
    stored = my.open_yard(yard_path).artifacts.get(data["id"])
    assert stored == drift.profile(pq.read_table(files["reference"]))
    human = run("drift", "profile", str(files["reference"]), "--name", "churn-ref", yard=yard_path)
    assert human.returncode == 0 and human.stdout.startswith("sha256:")
    assert "2000 rows" in human.stdout


def test_profile_to_a_file_with_a_sketch_from_csv(tmp_path: Path, files: dict[str, Path]) -> None:
    out = tmp_path / "reference.profile"
    code, data = run_json(
        "drift",
        "profile",
        str(files["reference_csv"]),
        "--output",
        str(out),
        "--sample-size",
        "200",
        "--bins",
        "5",
        "--categorical",
        "plan",
        yard=tmp_path / "never",
    )
    assert code == 0 and data["id"] is None and data["output"] == str(out)
    profile = drift.DriftProfile.from_bytes(out.read_bytes())
    assert profile.sample_size == 200 and profile.bins == 5 and profile.rows == 2_000
    assert not (tmp_path / "never").exists()  # nothing stored, so no yard made


def test_profile_refuses_bad_input_before_writing_anything(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    yard_path = tmp_path / "yard"
    odd = tmp_path / "data.txt"
    odd.write_text("a,b\n1,2\n")
    code, data = run_json("drift", "profile", str(odd), yard=yard_path)
    assert code == 2 and "--format" in data["error"]["message"]
    code, data = run_json("drift", "profile", str(files["reference"]), "--name", "bad name!")
    assert code == 2 and data["error"]["type"] == "InvalidNameError"
    bins = run("drift", "profile", str(files["reference"]), "--bins", "0", yard=yard_path)
    assert bins.returncode == 2 and "--bins" in bins.stderr
    code, data = run_json("drift", "profile", str(tmp_path / "nope.csv"), yard=yard_path)
    assert code == 3 and "nope.csv" in data["error"]["message"]
    not_parquet = tmp_path / "broken.parquet"
    not_parquet.write_bytes(b"not parquet at all")
    code, data = run_json("drift", "profile", str(not_parquet), yard=yard_path)
    assert code == 2 and "Parquet" in data["error"]["message"]
    assert not yard_path.exists()


def test_a_progress_bar_on_a_terminal_and_none_in_a_pipe(
    tmp_path: Path, files: dict[str, Path]
) -> None:

    piped = run("drift", "profile", str(files["reference"]), yard=tmp_path / "yard")
    assert piped.returncode == 0 and "row groups" not in piped.stderr
    code, drawn = run_on_terminal(
        "drift", "profile", str(files["reference"]), yard=tmp_path / "yard"
    )
    assert code == 0
    assert b"4/4 row groups" in drawn


# -- compare ---------------------------------------------------------------------------------------


def test_compare_exits_1_on_drift_and_0_without(tmp_path: Path, files: dict[str, Path]) -> None:
    code, data = run_json("drift", "compare", str(files["reference"]), str(files["drifted"]))
    assert code == 1
    expected = drift.compare(pq.read_table(files["reference"]), pq.read_table(files["drifted"]))
    assert data["drifted"] == expected.drifted == ["age"]
    for key, value in expected.to_dict().items():
        assert data[key] == value, key
    code, data = run_json("drift", "compare", str(files["reference"]), str(files["stable"]))
    assert code == 0 and data["drifted"] == []
    human = run("drift", "compare", str(files["reference"]), str(files["drifted"]))
    assert human.returncode == 1
    assert "1 of 2 columns drifted" in human.stdout
    assert expected.summary().splitlines()[1] in human.stdout  # the table, judged numbers


def test_no_fail_on_drift_reports_and_exits_0(tmp_path: Path, files: dict[str, Path]) -> None:
    code, data = run_json(
        "drift", "compare", str(files["reference"]), str(files["drifted"]), "--no-fail-on-drift"
    )
    assert code == 0 and data["drifted"] == ["age"]


def test_compare_against_a_stored_profile_stores_the_report_with_its_lineage(
    tmp_path: Path, files: dict[str, Path]
) -> None:
    yard_path = tmp_path / "yard"
    _, profiled = run_json(
        "drift", "profile", str(files["reference"]), "--name", "churn-ref", yard=yard_path
    )
    page = tmp_path / "report.html"
    for spelling in ("artifacts:/churn-ref@latest", "churn-ref@latest", profiled["id"]):
        code, data = run_json(
            "drift",
            "compare",
            spelling,
            str(files["drifted"]),
            "--store",
            "churn-drift",
            "--html",
            str(page),
            yard=yard_path,
        )
        assert code == 1 and data["drifted"] == ["age"] and data["reference"] == profiled["id"]
    yard = my.open_yard(yard_path)
    report = yard.artifacts.get(data["stored"])
    assert isinstance(report, drift.DriftReport) and report.drifted == ["age"]
    assert yard.artifacts.manifest(data["stored"]).parents == (profiled["id"],)
    assert "1 of 2 columns drifted" in page.read_text()


def test_compare_reads_a_profile_file(tmp_path: Path, files: dict[str, Path]) -> None:
    out = tmp_path / "ref.bin"
    assert run("drift", "profile", str(files["reference"]), "--output", str(out)).returncode == 0
    code, data = run_json("drift", "compare", str(out), str(files["drifted"]))
    assert code == 1 and data["drifted"] == ["age"] and data["reference"] == str(out)
    # --format speaks of the data files; the profile file is known by its content.
    oddly_named = tmp_path / "live.data"
    oddly_named.write_bytes(files["stable"].read_bytes())
    code, data = run_json("drift", "compare", str(out), str(oddly_named), "--format", "csv")
    assert code == 0 and data["drifted"] == []


def test_compare_options_reach_the_library(tmp_path: Path, files: dict[str, Path]) -> None:
    code, data = run_json(
        "drift",
        "compare",
        str(files["reference"]),
        str(files["drifted"]),
        "--statistic",
        "psi",
        "--threshold",
        "psi=100",
        "--column",
        "age",
    )
    assert code == 0 and [c["name"] for c in data["columns"]] == ["age"]
    assert [s["statistic"] for s in data["columns"][0]["statistics"]] == ["psi"]
    assert data["columns"][0]["statistics"][0]["threshold"] == 100


def test_compare_usage_errors_exit_2(tmp_path: Path, files: dict[str, Path]) -> None:
    other = tmp_path / "other.csv"
    pd.DataFrame({"age": [1.0, 2.0, 3.0]}).to_csv(other, index=False)
    code, data = run_json("drift", "compare", str(files["reference"]), str(other))
    assert code == 2 and data["error"]["type"] == "ColumnMismatchError"
    assert (
        run("drift", "compare", str(files["reference"]), str(other), "--statistic", "x").returncode
        == 2
    )
    bad = run("drift", "compare", str(files["reference"]), str(other), "--threshold", "psi=high")
    assert bad.returncode == 2 and "not a number" in bad.stderr
    code, data = run_json(
        "drift",
        "compare",
        str(files["reference"]),
        str(files["drifted"]),
        "--html",
        str(tmp_path / "no-folder" / "r.html"),
    )
    assert code == 2 and "--html" in data["error"]["message"]
    yard_path = tmp_path / "yard"
    my.open_yard(yard_path).artifacts.put(b"just bytes", name="blob")
    code, data = run_json("drift", "compare", "blob@latest", str(files["drifted"]), yard=yard_path)
    assert code == 2 and "not a drift profile" in data["error"]["message"]


def test_compare_not_found_exits_3(tmp_path: Path, files: dict[str, Path]) -> None:
    code, data = run_json("drift", "compare", str(files["reference"]), str(tmp_path / "x.csv"))
    assert code == 3 and data["error"]["type"] == "NotFoundError"
    my.open_yard(tmp_path / "yard")
    code, data = run_json(
        "drift", "compare", "missing@latest", str(files["drifted"]), yard=tmp_path / "yard"
    )
    assert code == 3
    code, data = run_json(
        "drift", "compare", "missing@latest", str(files["drifted"]), yard=tmp_path / "typo"
    )
    assert code == 3 and "--yard" in data["error"]["message"]
    assert not (tmp_path / "typo").exists()


def test_a_tampered_stored_profile_exits_5(tmp_path: Path, files: dict[str, Path]) -> None:
    yard_path = tmp_path / "yard"
    _, profiled = run_json(
        "drift", "profile", str(files["reference"]), "--name", "ref", yard=yard_path
    )
    digest = my.open_yard(yard_path).artifacts.resolve(profiled["id"]).digest
    hexdigest = digest.removeprefix("sha256:")
    blob = yard_path / "blobs" / "sha256" / hexdigest[:2] / hexdigest[2:]
    blob.write_bytes(b"\xff" * blob.stat().st_size)
    code, data = run_json("drift", "compare", "ref@latest", str(files["drifted"]), yard=yard_path)
    assert code == 5 and data["error"]["type"] == "IntegrityError"


# -- monitor ---------------------------------------------------------------------------------------


@pytest.fixture
def days(tmp_path: Path) -> Path:
    """Three days of traffic; on the last one age moved."""
    parts = [_frame(10 + day, rows=800, shift=8.0 if day == 2 else 0.0) for day in range(3)]
    for day, part in enumerate(parts):
        part["ts"] = (
            pd.Timestamp("2026-06-01")
            + pd.Timedelta(days=day)
            + pd.to_timedelta(np.arange(len(part)), unit="s")
        )
    path = tmp_path / "traffic.csv"
    pd.concat(parts).to_csv(path, index=False)
    return path


def test_monitor_exits_1_with_the_alerts_of_each_window(
    tmp_path: Path, files: dict[str, Path], days: Path
) -> None:
    page = tmp_path / "monitoring.html"
    code, data = run_json(
        "drift",
        "monitor",
        str(files["reference"]),
        str(days),
        "--time",
        "ts",
        "--every",
        "1D",
        "--html",
        str(page),
    )
    assert code == 1, data
    assert [(a["window"], a["subject"]) for a in data["alerts"]] == [(2, "age")]
    assert [w["verdict"] for w in data["windows"]] == ["stable", "stable", "drift"]
    assert [row["rows"] for row in data["summary"]] == [800, 800, 800]
    assert data["kind"] == "time" and data["every"] == "1D"
    assert "windows" in page.read_text()
    human = run(
        "drift", "monitor", str(files["reference"]), str(days), "--time", "ts", "--every", "1D"
    )
    assert human.returncode == 1 and "ALERT window 2 age" in human.stdout


def test_monitor_without_alerts_exits_0(tmp_path: Path, files: dict[str, Path]) -> None:
    code, data = run_json(
        "drift",
        "monitor",
        str(files["reference"]),
        str(files["stable"]),
        "--rows",
        "500",
        "--quality",
    )
    assert code == 0 and data["alerts"] == [] and len(data["windows"]) == 4
    assert all(w["quality"] is not None for w in data["windows"])


def test_monitor_usage_errors_exit_2(files: dict[str, Path], days: Path) -> None:
    ref = str(files["reference"])
    code, data = run_json("drift", "monitor", ref, str(days), "--time", "ts")
    assert code == 2 and "--every" in data["error"]["message"]
    code, data = run_json(
        "drift", "monitor", ref, str(days), "--time", "ts", "--every", "1 fortnight"
    )
    assert code == 2
    code, data = run_json("drift", "monitor", ref, str(days), "--time", "when", "--every", "1D")
    assert code == 2 and "'when'" in data["error"]["message"]
    code, data = run_json("drift", "monitor", ref, str(days), "--rows", "5", "--every", "1D")
    assert code == 2


def test_monitor_not_found_exits_3(tmp_path: Path, files: dict[str, Path]) -> None:
    code, data = run_json(
        "drift", "monitor", str(files["reference"]), str(tmp_path / "none.csv"), "--rows", "10"
    )
    assert code == 3 and json.dumps(data).count("none.csv") >= 1


def test_declaring_the_commands_imports_no_heavy_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from modelyard.cli import main\n"
        "for argv in (['drift', 'compare', '--help'], ['lifecycle', 'set', '--help']):\n"
        "    assert main(argv) == 0\n"
        "heavy = ('pandas', 'pyarrow', 'scipy', 'sklearn', 'modelyard.drift')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_library_warnings_are_one_line_each_on_stderr(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    pd.DataFrame({"a": [np.nan] * 50, "b": np.arange(50.0)}).to_csv(empty, index=False)
    full = tmp_path / "full.csv"
    pd.DataFrame({"a": np.arange(50.0), "b": np.arange(50.0)}).to_csv(full, index=False)
    done = run("drift", "compare", str(full), str(empty))
    assert done.returncode == 0
    assert "modelyard: warning: column 'a' has no values in the current data" in done.stderr
    assert "DriftWarning" not in done.stderr and ".py:" not in done.stderr
    code, data = run_json("drift", "profile", str(empty), "--output", str(tmp_path / "p.bin"))
    assert code == 0 and len(data["warnings"]) == 1 and "'a'" in data["warnings"][0]
