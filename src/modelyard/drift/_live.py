"""LiveMonitor: drift of a running service's traffic, window by window, in bounded memory.

Time (or rows) is cut into steps of ``step``; a window is ``every // step`` consecutive steps
(one for tumbling windows). Each open step keeps counts and sketches (:class:`Step`); a closed
step is sealed (its buffer freed) and kept only while a window still to close needs it; a closed
window keeps only its result. One lock guards the state: a batch is converted outside it, and
added, and windows closed, under it; listeners and checkpoints run after it is released.
"""

from __future__ import annotations

import json
import logging
import threading
import time as _time
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from modelyard.drift._columns import NUMERIC_KINDS, Frame, to_frame
from modelyard.drift._compare import StatsArg, _plan, _selected
from modelyard.drift._comparison_bins import comparison_bins
from modelyard.drift._config import DriftConfig, resolve_config
from modelyard.drift._every import parse_every
from modelyard.drift._live_checkpoint import Checkpoint
from modelyard.drift._live_judge import Tally, judge
from modelyard.drift._live_state import read_state, write_state
from modelyard.drift._live_step import Step, merge_many
from modelyard.drift._monitor import _length, _take
from modelyard.drift._monitoring import Monitoring, WindowDrift
from modelyard.drift._profile import DriftProfile, profile
from modelyard.errors import DriftInputError, InputError

__all__ = ["LiveMonitor"]

logger = logging.getLogger("modelyard.drift")

Alert = tuple[int, str, str]
Listener = Callable[[WindowDrift, Alert], object]

#: Values buffered per open step by default (8 MB of float64).
_BUFFERED = 1 << 20


def _nanos(value: object, name: str) -> tuple[int, str]:
    every = parse_every(value, name=name)
    if every.months:
        raise InputError(
            f"{name}={value!r}: a live monitor's windows have a fixed length (UTC days at most "
            "in weeks); use a length in ns, us, ms, s, min, h, D or W",
            argument=name,
        )
    return every.nanos or every.days * 86_400 * 10**9, every.text


def _times(times: object, rows: int) -> Any:
    """Per-row times as int64 nanoseconds since the epoch (UTC); NaT as the int64 minimum."""
    values = np.asarray(times)
    if values.dtype.kind != "M":
        import pandas as pd

        try:
            values = np.asarray(pd.to_datetime(pd.Series(times), utc=True).dt.tz_localize(None))
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"times= must be datetimes, one per row ({exc}); pass datetime64 values, "
                "pandas timestamps or ISO text"
            ) from exc
    if values.shape != (rows,):
        raise InputError(
            f"times= holds {values.size} times, but the batch has {rows} rows; pass one per row"
        )
    return values.astype("datetime64[ns]").astype(np.int64)


class LiveMonitor:
    """Drift of a running service's traffic against one reference, window by window.

    Call :meth:`update` with every batch the service sees (from any number of threads at once);
    :meth:`check` gives the windows closed so far as a :class:`Monitoring`, the result type of
    :func:`monitor`, judged as :func:`monitor` judges them. Memory stays bounded whatever the
    traffic: an open window keeps, per numeric column, a quantile sketch of ``sketch_size``
    points with exact missing, infinite and per-bin counts, and per categorical column exact
    category counts; a closed window keeps only its result.

    PSI, KL, JS and chi-square read exact counts and equal :func:`monitor`'s on the same rows.
    KS and Wasserstein read the sketch, whose ECDF is within a tracked rank error ``e`` of the
    window's (:meth:`rank_error`, about ``(1 + log2(rows / buffer_rows)) / (2 * sketch_size)``
    at most): KS is within ``e`` of the exact statistic, Wasserstein within ``e`` times the
    window's range. A window of at most ``sketch_size`` values per column is exact.

    Args:
        reference: a :class:`DriftProfile`, or reference data (profiled with ``config``'s bins).
        every: time windows of this length (``"1h"``, ``"15min"``, ``"1D"``; fixed lengths in
            UTC), aligned on the epoch (an hourly window starts on the hour).
        rows: count windows of this many rows, in arrival order.
        step: how far apart windows start (``every`` or ``rows`` by default: tumbling). Shorter
            makes rolling windows, kept as sketches per step and merged; ``every`` (``rows``)
            must be a whole number of steps.
        columns: monitor only these columns of the reference.
        stats: as in :func:`compare`.
        thresholds: as in :func:`compare`.
        config: as in :func:`compare` (a configuration with shared reference bins).
        sketch_size: points per numeric column and window sketch (the rank error is about
            ``1 / (2 * sketch_size)`` per compression).
        buffer_rows: rows buffered before they are sorted into the sketch (default: about a
            million values, ``2**20`` divided by the numeric columns, at least
            ``4 * sketch_size``).
        clock: a function returning the time in seconds since the epoch (default
            :func:`time.time`): rows without ``times=`` arrive at this time, and a time window
            closes when the clock, or a later row's time, passes its end.
        on_alert: called as ``on_alert(window, alert)`` once per new alert (``alert`` is
            ``(window number, column, reason)`` as in :attr:`Monitoring.alerts`), from the thread
            whose call closed the window, after the monitor's lock is released; an exception
            it raises is logged (logger ``modelyard.drift``) and never reaches ``update``.
        checkpoint: a :class:`Checkpoint`: the state is loaded from it at start (when it holds
            one) and saved to it every ``save_every``, on :meth:`save` and on :meth:`close`.
        save_every: how often to save to ``checkpoint`` (a duration such as ``"5min"``, by the
            clock), checked on each :meth:`update` and :meth:`check`.
        keep: how many closed windows' results to keep (a few kilobytes each), the oldest
            dropped first, so that memory stays bounded however long the service runs;
            ``None`` keeps them all.

    Raises:
        InputError: no way or two ways to cut windows, a step that does not divide the window,
            a checkpoint written with other settings.
        DriftInputError: a configuration that bins each comparison over both samples, a bad
            ``sketch_size``.
        ColumnMismatchError: ``columns`` names columns that the reference does not have.

    Example:
        >>> import numpy as np
        >>> import modelyard.drift as drift
        >>> rng = np.random.default_rng(5)
        >>> live = drift.LiveMonitor({"x": rng.normal(size=5000)}, rows=1000)
        >>> for shift in (0.0, 0.0, 1.0):
        ...     live.update({"x": rng.normal(shift, size=1000)})
        >>> live.check().summary()[["window", "rows", "verdict"]]
           window  rows verdict
        0       0  1000  stable
        1       1  1000  stable
        2       2  1000   drift
    """

    def __init__(
        self,
        reference: DriftProfile | object,
        *,
        every: object = None,
        rows: int | None = None,
        step: object = None,
        columns: Sequence[str] | None = None,
        stats: StatsArg = None,
        thresholds: Mapping[str, float] | None = None,
        config: DriftConfig | str | None = None,
        sketch_size: int = 2000,
        buffer_rows: int | None = None,
        clock: Callable[[], float] | None = None,
        on_alert: Listener | None = None,
        checkpoint: Checkpoint | None = None,
        save_every: object = None,
        keep: int | None = 10_000,
    ) -> None:
        cfg = resolve_config(config)
        if thresholds:
            cfg = DriftConfig(
                **{**cfg.model_dump(), "thresholds": {**cfg.thresholds, **thresholds}}
            )
        if not comparison_bins(cfg).shared:
            raise DriftInputError(
                f"config {cfg.name!r} bins each comparison over both samples, which a live "
                "monitor cannot do from counts; use reference bins ('modelyard' or 'nannyml')"
            )
        if isinstance(sketch_size, bool) or not isinstance(sketch_size, int) or sketch_size < 2:
            raise DriftInputError(
                f"sketch_size must be an integer of at least 2, not {sketch_size!r}"
            )
        if buffer_rows is not None and (
            isinstance(buffer_rows, bool) or not isinstance(buffer_rows, int) or buffer_rows < 1
        ):
            raise DriftInputError(f"buffer_rows must be a positive integer, not {buffer_rows!r}")
        if keep is not None and (isinstance(keep, bool) or not isinstance(keep, int) or keep < 1):
            raise InputError(f"keep= must be a positive number of windows or None, not {keep!r}")
        self._keep = keep
        kind, length, stride, texts = self._geometry(every, rows, step)
        if checkpoint is not None and not isinstance(checkpoint, Checkpoint):
            raise InputError(
                "checkpoint= needs save(data: bytes) and load() -> bytes | None methods, "
                f"which a {type(checkpoint).__name__} lacks"
            )
        self._save_every = None if save_every is None else _nanos(save_every, "save_every")[0]
        if isinstance(reference, DriftProfile):
            prof = reference
        else:
            prof = profile(
                reference,
                bins=cfg.bins,
                binning=comparison_bins(cfg).profile_binning(cfg),
                columns=columns,
            )
        names = _selected(prof, columns)
        kinds = tuple(prof.column_kinds[n] for n in names)
        if buffer_rows is None:
            # About a million buffered values: sorting them in one go makes the sketch's merges
            # rare, and the buffer a few megabytes.
            numeric = sum(1 for k in kinds if k in NUMERIC_KINDS)
            buffer_rows = max(4 * sketch_size, _BUFFERED // max(numeric, 1))
        self._setup(prof, names, _plan(stats, names, kinds, cfg), cfg, (sketch_size, buffer_rows))
        self._kind: Literal["time", "rows"] = kind
        self._length, self._stride, self._texts = length, stride, texts
        self._clock = clock or _time.time
        self._on_alert = on_alert
        self._checkpoint = checkpoint
        self._restart()
        if checkpoint is not None:
            stored = checkpoint.load()
            if stored is not None:
                self._restore(stored, checking=True)
        self._saved_at = self._now()

    def _setup(
        self,
        prof: DriftProfile,
        names: tuple[str, ...],
        plan: dict[str, Any],
        cfg: DriftConfig,
        sizes: tuple[int, int],
    ) -> None:
        self._profile, self._names, self._plan, self._config = prof, names, plan, cfg
        self._kinds = tuple(prof.column_kinds[n] for n in names)
        numeric = [n for n, k in zip(names, self._kinds, strict=True) if k in NUMERIC_KINDS]
        self._numeric_names = numeric
        self._categorical = len(names) - len(numeric)
        index = np.array([prof._numeric_index[n] for n in numeric], dtype=np.int64)
        self._edges = np.asarray(prof.edges[index], dtype=np.float64).reshape(index.size, -1)
        self._size, self._buffer = sizes
        self._lock = threading.Lock()
        self._save_lock = threading.Lock()

    def _restart(self) -> None:
        self._steps: dict[int, Step] = {}
        self._first: int | None = None  # the first window's first step
        self._closed = 0  # steps below this take no more rows
        self._next = 0  # the next window to close starts at this step
        self._watermark = -(2**62)
        self._row = 0  # rows mode: the next row's position
        self._seen = 0
        self._outside = 0
        # Closed windows' results, as compressed JSON: a few kilobytes each rather than the
        # hundred or more of their objects.
        self._results: list[bytes] = []
        self._errors: list[dict[str, float]] = []
        # Windows whose results were dropped to stay within ``keep``, the oldest first.
        self._dropped = 0

    @staticmethod
    def _geometry(
        every: object, rows: int | None, step: object
    ) -> tuple[Literal["time", "rows"], int, int, tuple[str, str]]:
        if (every is None) == (rows is None):
            raise InputError(
                "say how to cut the traffic into windows: every= (time windows, e.g. '1h') or "
                "rows= (count windows), one of them"
            )
        if rows is not None:
            if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
                raise InputError(f"rows= must be a positive integer, not {rows!r}")
            stride = rows if step is None else step
            if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
                raise InputError(f"step= must be a positive number of rows, not {step!r}")
            if rows % stride:
                raise InputError(
                    f"rows={rows} is not a whole number of steps of {stride} rows; choose a "
                    "step that divides the window"
                )
            return "rows", rows, stride, (str(rows), str(stride))
        length, text = _nanos(every, "every")
        stride, step_text = (length, text) if step is None else _nanos(step, "step")
        if length % stride:
            raise InputError(
                f"every={every!r} is not a whole number of steps of {step!r}; choose a step "
                "that divides the window"
            )
        return "time", length, stride, (text, step_text)

    @property
    def _span(self) -> int:
        """Steps per window."""
        return self._length // self._stride

    def _now(self) -> int:
        return int(self._clock() * 1e9)

    # -- updating ----------------------------------------------------------------------------

    def _frame(self, batch: Any) -> Frame:
        quick = self._numbers(batch)
        if quick is not None:
            return quick
        return to_frame(
            batch,
            names=self._names,
            kinds=self._kinds,
            columns=self._names if len(self._names) < len(self._profile.columns) else None,
            check_values=False,
        )

    def _numbers(self, batch: Any) -> Frame | None:
        """The frame of an all-numeric batch held as plain arrays, without the general
        conversion (a service's hot path); ``None`` for anything else."""
        if self._categorical:
            return None
        names = self._numeric_names
        if isinstance(batch, np.ndarray):
            if batch.ndim != 2 or batch.dtype.kind not in "fiu" or len(names) != batch.shape[1]:
                return None
            if list(names) != [str(i) for i in range(batch.shape[1])]:
                return None
            values = batch.astype(np.float64, copy=False)
        elif isinstance(batch, dict) and len(batch) == len(names):
            found = [batch.get(n) for n in names]
            arrays = [
                a
                for a in found
                if isinstance(a, np.ndarray) and a.ndim == 1 and a.dtype.kind in "fiu"
            ]
            if len(arrays) != len(names) or len({a.shape for a in arrays}) != 1:
                return None
            values = np.column_stack(arrays).astype(np.float64, copy=False)
        else:
            return None
        empty = np.zeros(len(names), dtype=np.int64)
        return Frame(
            rows=values.shape[0],
            names=self._names,
            kinds=self._kinds,
            numeric=values,
            numeric_missing=empty,
            numeric_infinite=empty,
            categorical=(),
            categorical_missing=np.zeros(0, dtype=np.int64),
            numeric_checked=False,
        )

    def update(self, batch: object, *, times: object = None) -> None:
        """Add a batch of rows (a DataFrame, Arrow table, mapping or 2-D array, with the
        reference's columns). Safe to call from many threads at once.

        Args:
            batch: the rows.
            times: one time per row (datetimes, UTC when naive), for time windows; by default
                every row arrives now, by the clock. A row whose window has closed already, or
                without a time, is counted in :attr:`Monitoring.outside_rows` and not judged.

        Raises:
            ColumnMismatchError, ColumnTypeError, DriftInputError: the batch does not match the
                reference (nothing is added).
            InputError: ``times`` with count windows, or not one time per row.
        """
        rows = _length(batch)
        frame = self._frame(batch)
        stamps = None
        if times is not None:
            if self._kind == "rows":
                raise InputError("times= places rows in time windows; this monitor counts rows")
            stamps = _times(times, rows)
        now = self._now()
        with self._lock:
            self._seen += rows
            if self._kind == "rows":
                self._add_rows(batch, frame, rows)
            else:
                self._advance(now)
                self._add_timed(batch, frame, rows, now, stamps)
            closed = self._close()
        self._after(closed, now)

    def _piece(self, step: int, batch: Any, frame: Frame, rows: Any) -> None:
        part = frame if rows is None else self._frame(_take(batch, rows))
        target = self._steps.get(step)
        if target is None:
            target = self._steps[step] = Step(
                self._edges, self._categorical, self._size, self._buffer
            )
        target.add(part.numeric, part.categorical, part.categorical_missing)

    def _add_rows(self, batch: Any, frame: Frame, rows: int) -> None:
        self._first = 0
        position, end = self._row, self._row + rows
        while position < end:
            step = position // self._stride
            stop = min(end, (step + 1) * self._stride)
            whole = position == self._row and stop == end
            self._piece(
                step, batch, frame, None if whole else np.arange(position, stop) - self._row
            )
            position = stop
        self._row = end
        self._closed = end // self._stride

    def _add_timed(self, batch: Any, frame: Frame, rows: int, now: int, stamps: Any) -> None:
        if stamps is None:
            steps = np.full(rows, now // self._stride, dtype=np.int64)
            timed = np.ones(rows, dtype=bool)
        else:
            timed = stamps != np.iinfo(np.int64).min
            steps = np.where(timed, stamps // self._stride, -1)
        usable = timed & (steps >= self._closed)
        self._outside += rows - int(np.count_nonzero(usable))
        if not usable.any():
            return
        kept = steps[usable]
        if self._first is None:
            self._first = self._next = int(kept.min())
        found = np.unique(kept)
        if found.size == 1 and usable.all():
            self._piece(int(found[0]), batch, frame, None)
        else:
            for step in found.tolist():
                self._piece(int(step), batch, frame, np.flatnonzero(usable & (steps == step)))
        if stamps is not None:
            self._advance(int(stamps[usable].max()))

    def _advance(self, now: int) -> None:
        """Move the time forward to ``now``: steps that ended take no more rows."""
        if now > self._watermark:
            self._watermark = now
            self._closed = max(self._closed, now // self._stride)

    def _tally(self, first: int, count: int) -> Tally:
        steps = [self._steps[s] for s in range(first, first + count) if s in self._steps]
        numeric, categorical = len(self._numeric_names), self._categorical
        samples = [s.samples() for s in steps]
        tally = Tally(
            rows=sum(s.rows for s in steps),
            samples=[merge_many([p[0][j] for p in samples], self._size) for j in range(numeric)],
            bins=np.zeros((numeric, self._edges.shape[1] + 1), dtype=np.int64),
            missing=np.zeros(numeric, dtype=np.int64),
            infinite=np.zeros(numeric, dtype=np.int64),
            categories=tuple({} for _ in range(categorical)),
            categorical_missing=np.zeros(categorical, dtype=np.int64),
        )
        for s, (_, bins, missing, infinite) in zip(steps, samples, strict=True):
            tally.bins += bins
            tally.missing += missing
            tally.infinite += infinite
            tally.categorical_missing += s.categorical_missing
            for target, counts in zip(tally.categories, s.categories, strict=True):
                for label, n in counts.items():
                    target[label] = target.get(label, 0) + n
        return tally

    def _bounds(self, first: int) -> tuple[str | int, str | int]:
        start, end = first * self._stride, first * self._stride + self._length
        if self._kind == "rows":
            return start, end
        found = np.array([start, end], dtype="datetime64[ns]")
        text = np.datetime_as_string(found, unit="ns").tolist()
        return str(text[0]), str(text[1])

    def _judge(self, first: int, number: int) -> tuple[WindowDrift, dict[str, float]]:
        tally = self._tally(first, self._span)
        start, end = self._bounds(first)
        result = judge(
            self._profile, self._names, self._plan, self._config, tally, (number, start, end)
        )
        errors = {n: s[2] for n, s in zip(self._numeric_names, tally.samples, strict=True)}
        return result, errors

    def _close(self) -> list[WindowDrift]:
        """Judge every window whose steps have all closed; drop what no window needs now."""
        closed: list[WindowDrift] = []
        if self._first is None:
            return closed
        for s, step in self._steps.items():
            if s < self._closed and step.pending is not None:
                step.seal()
        while self._next + self._span <= self._closed:
            result, errors = self._judge(self._next, self._dropped + len(self._results))
            self._results.append(zlib.compress(result.model_dump_json().encode(), 6))
            self._errors.append(errors)
            if self._keep is not None and len(self._results) > self._keep:
                excess = len(self._results) - self._keep
                del self._results[:excess], self._errors[:excess]
                self._dropped += excess
            closed.append(result)
            self._steps.pop(self._next, None)
            self._next += 1
        return closed

    def _after(self, closed: list[WindowDrift], now: int) -> None:
        """Listeners and the scheduled checkpoint, outside the lock."""
        if self._on_alert is not None:
            for window in closed:
                for column in window.columns:
                    if column.drifted:
                        self._notify(window, (window.window, column.name, column.reason))
        if (
            self._checkpoint is not None
            and self._save_every is not None
            and now - self._saved_at >= self._save_every
        ):
            self.save()

    def _notify(self, window: WindowDrift, alert: Alert) -> None:
        assert self._on_alert is not None
        try:
            self._on_alert(window, alert)
        except Exception:
            # A failing listener must not break the service that feeds the monitor.
            logger.exception("the live monitor's on_alert listener failed on %r", alert)

    # -- reading -----------------------------------------------------------------------------

    def check(self, *, include_open: bool = False) -> Monitoring:
        """The windows closed so far (and, with ``include_open``, the next one to close, judged
        on its rows so far, last), as a :class:`Monitoring`. Time windows whose end the clock
        has passed are closed first."""
        now = self._now()
        with self._lock:
            closed: list[WindowDrift] = []
            if self._kind == "time":
                self._advance(now)
                closed = self._close()
            windows = [WindowDrift.model_validate_json(zlib.decompress(r)) for r in self._results]
            if include_open and self._first is not None:
                steps = range(self._next, self._next + self._span)
                if any(s in self._steps and self._steps[s].rows for s in steps):
                    windows.append(self._judge(self._next, self._dropped + len(windows))[0])
            result = Monitoring(
                kind=self._kind,
                every=self._texts[0],
                step=self._texts[1],
                timezone=None,
                config=self._config,
                reference_rows=self._profile.rows,
                data_rows=self._seen,
                outside_rows=self._outside,
                windows=tuple(windows),
            )
        self._after(closed, now)
        return result

    def rank_error(self, window: int) -> dict[str, float]:
        """Per numeric column, the rank error of the sketch that window ``window`` (closed) was
        judged from: KS is within it of the exact value, Wasserstein within it times the range
        of the window's values. ``0.0`` where the window was exact.

        Raises:
            InputError: no closed window has that number, or its result is no longer kept.
        """
        with self._lock:
            closed = self._dropped + len(self._errors)
            if not 0 <= window < closed:
                raise InputError(f"window {window} has not closed; {closed} windows have")
            if window < self._dropped:
                raise InputError(
                    f"window {window} is no longer kept: the monitor keeps the last "
                    f"{self._keep} windows (keep=)"
                )
            return dict(self._errors[window - self._dropped])

    # -- restarts ----------------------------------------------------------------------------

    def _settings(self) -> dict[str, Any]:
        return {
            "kind": self._kind,
            "length": self._length,
            "stride": self._stride,
            "texts": list(self._texts),
            "names": list(self._names),
            "plan": {k: list(v) for k, v in self._plan.items()},
            "config": self._config.model_dump(mode="json"),
            "sketch_size": self._size,
            "buffer_rows": self._buffer,
            "keep": self._keep,
        }

    def to_bytes(self) -> bytes:
        """The whole state (reference, settings, open steps, closed windows' results), for
        :meth:`from_bytes`; it carries a ``schema_version``."""
        with self._lock:
            arrays: dict[str, Any] = {
                "profile": np.frombuffer(self._profile.to_bytes(), dtype=np.uint8)
            }
            steps = {}
            for s, step in self._steps.items():
                fields, parts = step.state()
                steps[str(s)] = fields
                arrays.update({f"s{s}_{k}": v for k, v in parts.items()})
            header = {
                "settings": self._settings(),
                "first": self._first,
                "closed": self._closed,
                "next": self._next,
                "watermark": self._watermark,
                "row": self._row,
                "seen": self._seen,
                "outside": self._outside,
                "results": [json.loads(zlib.decompress(r)) for r in self._results],
                "dropped": self._dropped,
                "errors": self._errors,
                "steps": steps,
            }
        return write_state(header, arrays)

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        *,
        clock: Callable[[], float] | None = None,
        on_alert: Listener | None = None,
        checkpoint: Checkpoint | None = None,
        save_every: object = None,
    ) -> LiveMonitor:
        """A monitor from :meth:`to_bytes`, going on where that one was.

        Raises:
            IntegrityError: the bytes are truncated, damaged, or of a newer schema version.
        """
        header, arrays = read_state(data)
        settings = header["settings"]
        prof = DriftProfile.from_bytes(arrays["profile"].tobytes())
        kind = settings["kind"]
        texts = settings["texts"]
        monitor = cls(
            prof,
            every=texts[0] if kind == "time" else None,
            rows=int(texts[0]) if kind == "rows" else None,
            step=texts[1] if kind == "time" else int(texts[1]),
            columns=settings["names"],
            stats=settings["plan"],
            config=DriftConfig(**settings["config"]),
            sketch_size=settings["sketch_size"],
            buffer_rows=settings["buffer_rows"],
            keep=settings["keep"],
            clock=clock,
            on_alert=on_alert,
            checkpoint=None,
            save_every=save_every,
        )
        monitor._load(header, arrays)
        monitor._checkpoint = checkpoint
        return monitor

    def _restore(self, data: bytes, *, checking: bool) -> None:
        header, arrays = read_state(data)
        if checking:
            stored = DriftProfile.from_bytes(arrays["profile"].tobytes())
            if stored != self._profile or header["settings"] != self._settings():
                raise InputError(
                    "the checkpoint holds the state of a monitor with another reference or other "
                    "settings; pass the same reference and settings, or another checkpoint"
                )
        self._load(header, arrays)

    def _load(self, header: dict[str, Any], arrays: dict[str, Any]) -> None:
        with self._lock:
            self._restart()
            self._first = header["first"]
            self._closed, self._next = int(header["closed"]), int(header["next"])
            self._watermark, self._row = int(header["watermark"]), int(header["row"])
            self._seen, self._outside = int(header["seen"]), int(header["outside"])
            self._results = [
                zlib.compress(WindowDrift.model_validate(r).model_dump_json().encode(), 6)
                for r in header["results"]
            ]
            self._errors = [dict(e) for e in header["errors"]]
            self._dropped = int(header["dropped"])
            for key, fields in header["steps"].items():
                prefix = f"s{key}_"
                parts = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
                self._steps[int(key)] = Step.restore(
                    self._edges, self._size, self._buffer, fields, parts
                )

    def save(self) -> None:
        """Save the state to the checkpoint now (nothing without one)."""
        if self._checkpoint is None:
            return
        with self._save_lock:
            # Under the save lock, so that an older state is never saved after a newer one.
            data = self.to_bytes()
            self._checkpoint.save(data)
            self._saved_at = self._now()

    def close(self) -> None:
        """Save the state to the checkpoint (the open window goes on after a restart)."""
        self.save()

    def __enter__(self) -> LiveMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        size = f"every={self._texts[0]!r}" if self._kind == "time" else f"rows={self._length}"
        return f"LiveMonitor({size}, columns={len(self._names)}, windows={len(self._results)})"
