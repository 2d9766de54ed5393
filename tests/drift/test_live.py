"""LiveMonitor: agreement with monitor(), sketch bounds, windows, threads, listeners, restarts."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.stats

import modelyard.drift as drift
from modelyard import YardCheckpoint, open_yard
from modelyard.errors import ColumnMismatchError, DriftInputError, InputError, IntegrityError

from ._live_workers import batches, feed_and_checkpoint, reference


def _frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, size=n)
    x[rng.random(n) < 0.02] = np.nan
    return pd.DataFrame(
        {
            "x": x,
            "y": rng.exponential(1.0 + shift, size=n),
            "c": rng.choice(["a", "b", "c", None], p=[0.5, 0.3, 0.15, 0.05], size=n),
        }
    )


def _table(result: drift.Monitoring) -> pd.DataFrame:
    return result.to_pandas().drop(columns=["start", "end"])


@pytest.fixture(scope="module")
def ref() -> drift.DriftProfile:
    return drift.profile(_frame(5000, 1))


def test_small_windows_equal_monitor(ref: drift.DriftProfile) -> None:
    data = pd.concat([_frame(1200, 2), _frame(1200, 3, 0.4)], ignore_index=True)
    live = drift.LiveMonitor(ref, rows=600, sketch_size=1000)
    for start in range(0, len(data), 250):
        live.update(data.iloc[start : start + 250])
    got = live.check()
    want = drift.monitor(ref, data, rows=600)
    assert [w.rows for w in got.windows] == [600, 600, 600, 600]
    pd.testing.assert_frame_equal(_table(got), _table(want))
    assert got.alerts == want.alerts
    assert all(e == {"x": 0.0, "y": 0.0} for e in map(live.rank_error, range(4)))


def test_sketch_statistics_within_the_rank_error(ref: drift.DriftProfile) -> None:
    data = pd.concat([_frame(30_000, 4), _frame(30_000, 5, 0.1)], ignore_index=True)
    live = drift.LiveMonitor(ref, rows=30_000, sketch_size=200, buffer_rows=1000)
    for start in range(0, len(data), 700):
        live.update(data.iloc[start : start + 700])
    got, want = live.check(), drift.monitor(ref, data, rows=30_000)
    assert len(got.windows) == 2
    for w in range(2):
        error = live.rank_error(w)
        rows = data.iloc[w * 30_000 : (w + 1) * 30_000]
        for column in ("x", "y"):
            e = error[column]
            # Bounded by the binary counter: 1/(2K) per level of about log2(30 buffers).
            assert 0 < e <= 7 / (2 * 200)
            mine, exact = got.window(w).column(column), want.window(w).column(column)
            for name in ("psi", "js", "kl"):
                assert mine.statistic(name).value == exact.statistic(name).value
            ks = mine.statistic("ks").value
            values = rows[column].dropna().to_numpy()
            sample = ref.sample[
                : ref.sample_counts[ref._numeric_index[column]], ref._numeric_index[column]
            ]
            assert ks is not None
            assert abs(ks - scipy.stats.ks_2samp(sample, values).statistic) <= e + 1e-12
            assert abs(ks - exact.statistic("ks").value) <= e + 1e-12
            span = float(values.max() - values.min())
            w1 = mine.statistic("wasserstein").value
            assert w1 is not None and exact.statistic("wasserstein").value is not None
            # Wasserstein is reported relative to the reference spread; undo that first.
            scale = abs(
                exact.statistic("wasserstein").value
                / scipy.stats.wasserstein_distance(sample, values)
            )
            assert abs(w1 / scale - scipy.stats.wasserstein_distance(sample, values)) <= e * span
        assert mine.current_missing == exact.current_missing


def test_rolling_windows_equal_compare(ref: drift.DriftProfile) -> None:
    data = pd.concat([_frame(900, 6), _frame(900, 7, 0.5)], ignore_index=True)
    live = drift.LiveMonitor(ref, rows=600, step=300, sketch_size=1000)
    for start in range(0, len(data), 170):
        live.update(data.iloc[start : start + 170])
    got = live.check()
    assert [(w.start, w.end) for w in got.windows] == [(s, s + 600) for s in range(0, 1300, 300)]
    for w in got.windows:
        report = drift.compare(ref, data.iloc[int(w.start) : int(w.end)])
        for column in w.columns:
            for result in column.statistics:
                assert result.value == pytest.approx(
                    report.column(column.name).statistic(result.statistic).value, rel=1e-12
                )
            assert column.verdict == report.column(column.name).verdict


def test_time_windows_close_by_clock_and_count_late_rows(ref: drift.DriftProfile) -> None:
    now = [pd.Timestamp("2026-05-01 10:20").timestamp()]
    live = drift.LiveMonitor(ref, every="1h", sketch_size=1000, clock=lambda: now[0])
    live.update(_frame(400, 8))  # arrives 10:20
    now[0] += 3600  # 11:20: the 10:00 window has closed
    late = _frame(50, 9)
    live.update(late, times=pd.Series(pd.Timestamp("2026-05-01 10:50"), index=range(50)))
    live.update(_frame(300, 10), times=pd.date_range("2026-05-01 11:00", periods=300, freq="10s"))
    result = live.check()
    assert [(w.start, w.rows) for w in result.windows] == [("2026-05-01T10:00:00.000000000", 400)]
    assert result.outside_rows == 50 and result.data_rows == 750
    now[0] += 3600
    result = live.check(include_open=False)
    assert [w.rows for w in result.windows] == [400, 300]
    assert result.windows[1].end == "2026-05-01T12:00:00.000000000"
    opened = live.check(include_open=True)
    assert len(opened.windows) == 2  # nothing has arrived since 12:00


def test_open_window_is_judged_on_its_rows_so_far(ref: drift.DriftProfile) -> None:
    live = drift.LiveMonitor(ref, rows=1000, sketch_size=1000)
    part = _frame(400, 11, 1.0)
    live.update(part)
    assert live.check().windows == ()
    opened = live.check(include_open=True).windows
    assert [w.rows for w in opened] == [400]
    assert opened[0].column("x").statistic("psi").value == pytest.approx(
        drift.compare(ref, part).column("x").statistic("psi").value
    )


def test_threads_count_exactly(ref: drift.DriftProfile) -> None:
    parts = [_frame(250, 100 + i) for i in range(64)]
    data = pd.concat(parts, ignore_index=True)
    live = drift.LiveMonitor(ref, rows=len(data), sketch_size=300, buffer_rows=1200)
    barrier = threading.Barrier(8)

    def work(k: int) -> None:
        barrier.wait()
        for part in parts[k::8]:
            live.update(part)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    single = drift.LiveMonitor(ref, rows=len(data), sketch_size=300, buffer_rows=1200)
    for part in parts:
        single.update(part)
    got, want, exact = single.check(), live.check(), drift.monitor(ref, data, rows=len(data))
    assert [w.rows for w in want.windows] == [len(data)]
    for name in ("x", "y", "c"):
        a, b, c = (
            want.window(0).column(name),
            got.window(0).column(name),
            exact.window(0).column(name),
        )
        assert (a.current_count, a.current_missing) == (c.current_count, c.current_missing)
        assert a.current_shares == c.current_shares
        for s in a.statistics:
            if s.statistic in ("ks", "wasserstein"):
                bound = live.rank_error(0)[name] + single.rank_error(0)[name]
                if s.statistic == "ks":
                    assert abs(s.value - b.statistic("ks").value) <= bound + 1e-12
            else:
                assert s.value == c.statistic(s.statistic).value


def test_listener_called_once_per_alert_and_errors_logged(
    ref: drift.DriftProfile, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[tuple[int, str]] = []

    def listener(window: drift.WindowDrift, alert: tuple[int, str, str]) -> None:
        seen.append((window.window, alert[1]))
        raise RuntimeError("pager down")

    live = drift.LiveMonitor(ref, rows=500, on_alert=listener)
    with caplog.at_level(logging.ERROR, logger="modelyard.drift"):
        live.update(_frame(500, 12))
        live.update(_frame(1000, 13, 1.5))
        live.check()
    assert seen == [a[:2] for a in live.check().alerts]
    assert {w for w, _ in seen} == {1, 2}
    assert "pager down" in caplog.text


def test_state_round_trip_and_damage(ref: drift.DriftProfile) -> None:
    data = pd.concat([_frame(2500, 14), _frame(2500, 15, 0.3)], ignore_index=True)
    whole = drift.LiveMonitor(ref, rows=2000, step=1000, sketch_size=100, buffer_rows=300)
    split = drift.LiveMonitor(ref, rows=2000, step=1000, sketch_size=100, buffer_rows=300)
    for start in range(0, 3100, 100):
        whole.update(data.iloc[start : start + 100])
        split.update(data.iloc[start : start + 100])
    blob = split.to_bytes()
    split = drift.LiveMonitor.from_bytes(blob)
    for start in range(3100, 5000, 100):
        whole.update(data.iloc[start : start + 100])
        split.update(data.iloc[start : start + 100])
    assert split.check() == whole.check()
    with pytest.raises(IntegrityError, match="truncated or damaged"):
        drift.LiveMonitor.from_bytes(blob[: len(blob) // 2])
    from modelyard.drift._live_state import read_state, write_state

    header, arrays = read_state(blob)
    header["schema_version"] = 99
    import io
    import json

    out = io.BytesIO()
    np.savez(out, header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8), **arrays)
    with pytest.raises(IntegrityError, match="schema version 99"):
        drift.LiveMonitor.from_bytes(out.getvalue())
    assert read_state(write_state({"a": 1}, {}))[0]["schema_version"] == 1


def test_checkpoint_with_other_settings_is_refused(ref: drift.DriftProfile) -> None:
    yard = open_yard("memory://live-settings")
    keep = YardCheckpoint(yard, "live")
    with drift.LiveMonitor(ref, rows=100, checkpoint=keep) as live:
        live.update(_frame(150, 16))
    assert drift.LiveMonitor(ref, rows=100, checkpoint=keep).check().data_rows == 150
    with pytest.raises(InputError, match="other settings"):
        drift.LiveMonitor(ref, rows=200, checkpoint=keep)


def test_saved_on_a_schedule(ref: drift.DriftProfile) -> None:
    saved: list[bytes] = []

    class Keep:
        def save(self, data: bytes) -> None:
            saved.append(data)

        def load(self) -> bytes | None:
            return None

    now = [0.0]
    live = drift.LiveMonitor(
        ref, rows=100, checkpoint=Keep(), save_every="10s", clock=lambda: now[0]
    )
    live.update(_frame(10, 17))
    assert saved == []
    now[0] = 11.0
    live.update(_frame(10, 18))
    assert len(saved) == 1
    assert drift.LiveMonitor.from_bytes(saved[0]).check(include_open=True).data_rows == 20


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({}, InputError, "one of them"),
        ({"every": "1h", "rows": 10}, InputError, "one of them"),
        ({"rows": 10, "step": 3}, InputError, "whole number of steps"),
        ({"every": "1h", "step": "7min"}, InputError, "whole number of steps"),
        ({"every": "1M"}, InputError, "fixed length"),
        ({"rows": 10, "columns": ["nope"]}, ColumnMismatchError, "not in the reference"),
        ({"rows": 10, "config": "evidently"}, DriftInputError, "both samples"),
        ({"rows": 10, "sketch_size": 1}, DriftInputError, "sketch_size"),
        ({"rows": 10, "checkpoint": object()}, InputError, "save"),
    ],
)
def test_bad_settings(
    ref: drift.DriftProfile, kwargs: dict[str, Any], error: type, text: str
) -> None:
    with pytest.raises(error, match=text):
        drift.LiveMonitor(ref, **kwargs)


def test_bad_batch_adds_nothing(ref: drift.DriftProfile) -> None:
    live = drift.LiveMonitor(ref, rows=10)
    with pytest.raises(ColumnMismatchError):
        live.update(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(InputError, match="counts rows"):
        live.update(_frame(3, 19), times=pd.date_range("2026-01-01", periods=3))
    assert live.check(include_open=True).data_rows == 0


@pytest.mark.slow
def test_restart_after_kill_loses_nothing_saved(tmp_path: Any) -> None:
    path = str(tmp_path / "yard")
    open_yard(path)
    count = 40
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    child = ctx.Process(target=feed_and_checkpoint, args=(path, count, out))
    child.start()
    saved = -1
    while saved < 12:
        saved = out.get(timeout=120)
    os.kill(child.pid, signal.SIGKILL)  # mid-way through later updates and saves
    child.join()
    live = drift.LiveMonitor(
        reference(), rows=1000, sketch_size=200, checkpoint=YardCheckpoint(open_yard(path), "live")
    )
    state = live.check(include_open=True)
    done = state.data_rows // 300
    assert state.data_rows % 300 == 0 and done >= saved + 1
    traffic = batches(count)
    for batch in traffic[done:]:
        live.update(batch)
    straight = drift.LiveMonitor(reference(), rows=1000, sketch_size=200)
    for batch in traffic:
        straight.update(batch)
    assert live.check() == straight.check()
    assert len(live.check().windows) == 12


def test_plain_arrays_read_as_tables_are() -> None:
    rng = np.random.default_rng(20)
    reference = rng.normal(size=(3000, 3))
    data = rng.normal(0.2, size=(2400, 3))
    data[rng.random(data.shape) < 0.03] = np.nan
    data[5, 1] = np.inf
    as_array = drift.LiveMonitor(reference, rows=800, sketch_size=300)
    as_mapping = drift.LiveMonitor(reference, rows=800, sketch_size=300)
    as_frame = drift.LiveMonitor(reference, rows=800, sketch_size=300)
    for start in range(0, 2400, 200):
        part = data[start : start + 200]
        as_array.update(part)
        as_mapping.update({str(j): part[:, j] for j in range(3)})
        as_frame.update(pd.DataFrame(part, columns=["0", "1", "2"]))
    assert as_array.check() == as_mapping.check() == as_frame.check()
    exact = drift.monitor(reference, data, rows=800)
    for mine, want in zip(as_array.check().windows, exact.windows, strict=True):
        for a, b in zip(mine.columns, want.columns, strict=True):
            assert (a.current_count, a.current_missing) == (b.current_count, b.current_missing)
            assert a.statistic("psi").value == b.statistic("psi").value
    with pytest.raises(ColumnMismatchError):
        as_mapping.update({"0": data[:3, 0], "1": data[:3, 1], "x": data[:3, 2]})


def test_memory_is_bounded_within_a_window() -> None:
    rng = np.random.default_rng(21)
    live = drift.LiveMonitor(
        rng.normal(size=(2000, 2)), rows=10**9, sketch_size=50, buffer_rows=500
    )
    for _ in range(400):
        live.update(rng.normal(size=(300, 2)))
    (step,) = live._steps.values()
    assert step.rows == 120_000
    # A binary counter over 240 buffers: at most log2(240) + 1 levels of 50 points per column.
    assert len(step.levels) <= 8
    assert all(points.size <= 50 for _, samples in step.levels for points, _, _ in samples)
    assert step.pending is None or step.pending.shape[0] == 500


def test_time_windows_equal_monitor_on_replayed_traffic(ref: drift.DriftProfile) -> None:
    data = pd.concat([_frame(900, 22), _frame(900, 23, 0.6)], ignore_index=True)
    data["ts"] = pd.date_range("2026-05-01 00:07", periods=len(data), freq="13s")
    clock = [0.0]
    live = drift.LiveMonitor(ref, every="1h", sketch_size=1000, clock=lambda: clock[0])
    for start in range(0, len(data), 120):
        part = data.iloc[start : start + 120]
        clock[0] = part["ts"].iloc[0].timestamp()
        live.update(part.drop(columns=["ts"]), times=part["ts"])
    clock[0] = pd.Timestamp("2026-05-01 07:00").timestamp()  # the last window's end
    got = live.check()
    want = drift.monitor(ref, data, time="ts", every="1h")
    assert len(want.windows) == 7
    assert [w.rows for w in got.windows] == [w.rows for w in want.windows]
    assert [w.start for w in got.windows] == [w.start for w in want.windows]
    pd.testing.assert_frame_equal(_table(got), _table(want))
    assert got.outside_rows == 0 and got.data_rows == len(data)
    # An hour without traffic closes a window with no rows.
    clock[0] += 3600
    assert live.check().windows[-1].verdict == "insufficient data"


def test_listener_may_read_the_monitor_and_checks_run_beside_updates(
    ref: drift.DriftProfile,
) -> None:
    read: list[int] = []
    live: drift.LiveMonitor

    def listener(window: drift.WindowDrift, alert: tuple[int, str, str]) -> None:
        read.append(len(live.check().windows))  # the lock is free here: no deadlock

    live = drift.LiveMonitor(ref, rows=400, sketch_size=100, on_alert=listener)
    parts = [_frame(100, 200 + i, 1.0) for i in range(40)]
    stop = threading.Event()
    checks: list[int] = []

    def reader() -> None:
        while not stop.is_set():
            checks.append(len(live.check(include_open=True).windows))

    watcher = threading.Thread(target=reader)
    watcher.start()
    writers = [
        threading.Thread(target=lambda k=k: [live.update(p) for p in parts[k::4]]) for k in range(4)
    ]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    watcher.join()
    result = live.check()
    assert [w.rows for w in result.windows] == [400] * 10
    assert len(read) == len(result.alerts) > 0
    assert checks and max(checks) <= 11


def test_keep_bounds_the_closed_windows_kept_and_survives_a_restart() -> None:
    rng = np.random.default_rng(17)
    live = drift.LiveMonitor({"x": rng.normal(size=4000)}, rows=500, keep=2)
    for shift in (0.0, 0.0, 0.0, 1.0, 1.0):
        live.update({"x": rng.normal(shift, size=500)})
    result = live.check()
    assert [w.window for w in result.windows] == [3, 4]
    assert [w.verdict for w in result.windows] == ["drift", "drift"]
    assert live.rank_error(4) == {"x": 0.0}
    with pytest.raises(InputError, match="no longer kept"):
        live.rank_error(2)
    with pytest.raises(InputError, match="has not closed"):
        live.rank_error(5)
    again = drift.LiveMonitor.from_bytes(live.to_bytes())
    again.update({"x": rng.normal(size=500)})
    assert [w.window for w in again.check().windows] == [4, 5]
    with pytest.raises(InputError, match="keep="):
        drift.LiveMonitor({"x": rng.normal(size=100)}, rows=50, keep=0)
