"""Turn a table into the numeric matrix the multivariate methods read, with the reference's rules.

The encoding is fitted on the reference alone and applied unchanged to every window, so a window
is described in the reference's terms: a category the reference never saw, or a missing value,
cannot move the encoding itself.

- Numeric (and datetime, as nanoseconds) columns keep their values; a missing value becomes the
  reference's mean (``SimpleImputer(strategy="mean")``, as NannyML does).
- Categorical (and boolean) columns become, for the reconstruction, the category's frequency in
  the reference (NannyML's ``CountEncoder(normalize=True)``), a missing value first replaced by
  the reference's most frequent category; for the classifier, the category's code among the
  reference's categories (sorted by frequency), with one code for every unseen category and NaN
  for a missing value, which the trees route on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelyard.drift._columns import Kind, infer_kind
from modelyard.errors import ColumnMismatchError, ColumnTypeError, EmptyDataError

__all__ = ["Encoder", "fit_encoder", "read_table"]

FloatArray = NDArray[np.float64]


def read_table(data: Any, what: str) -> Any:
    """``data`` as a pandas DataFrame (a 2-D array gets the column names ``"0"``, ``"1"``...)."""
    import pandas as pd

    from modelyard.drift._columns import to_pandas

    if isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise ColumnTypeError(
                f"{what} is a {data.ndim}-D array; pass a 2-D array (rows, columns) or a table"
            )
        return pd.DataFrame(data, columns=[str(i) for i in range(data.shape[1])])
    return to_pandas(data)


def _numeric(series: Any, kind: Kind) -> FloatArray:
    import pandas as pd

    expected = (
        pd.api.types.is_datetime64_any_dtype(series.dtype)
        if kind == "datetime"
        else pd.api.types.is_numeric_dtype(series.dtype)
    )
    if not expected:
        raise ColumnTypeError(
            f"column {series.name!r} is {kind} in the reference but has dtype {series.dtype} "
            "here; pass the column with the reference's type",
            column=str(series.name),
        )

    if kind == "datetime":
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        missing = series.isna().to_numpy()
        values = series.to_numpy().astype("datetime64[ns]").view(np.int64).astype(np.float64)
        values[missing] = np.nan
        return np.asarray(values, dtype=np.float64)
    values = np.array(pd.to_numeric(series, errors="coerce"), dtype=np.float64)
    values[~np.isfinite(values)] = np.nan
    return values


@dataclass(frozen=True)
class Encoder:
    """The reference's encoding rules, per column (see the module docstring)."""

    names: tuple[str, ...]
    kinds: tuple[Kind, ...]
    #: Per numeric column its reference mean; per categorical column its categories, most
    #: frequent first, and their reference frequencies.
    means: dict[str, float]
    categories: dict[str, tuple[list[Any], FloatArray]]

    def _column(self, table: Any, name: str, what: str) -> Any:
        if name not in table.columns:
            raise ColumnMismatchError(
                f"column {name!r} of the reference is missing from {what}; pass data with the "
                "reference's columns, or choose columns= present in both",
                missing=[name],
                unexpected=[],
            )
        return table[name]

    def reconstruction(self, table: Any, what: str = "the data") -> FloatArray:
        """Columns as NannyML's reconstruction reads them: imputed, categories as frequencies."""
        out = np.empty((len(table), len(self.names)), dtype=np.float64)
        for j, (name, kind) in enumerate(zip(self.names, self.kinds, strict=True)):
            series = self._column(table, name, what)
            if name in self.means:
                values = _numeric(series, kind)
                out[:, j] = np.where(np.isnan(values), self.means[name], values)
            else:
                labels, frequency = self.categories[name]
                filled = series.where(series.notna(), labels[0]) if labels else series
                code = _codes(filled, labels)
                # An unseen category has frequency 0 in the reference.
                out[:, j] = np.append(frequency, 0.0)[code]
        return out

    def classifier(self, table: Any, what: str = "the data") -> FloatArray:
        """Columns as the domain classifier reads them: numbers as given (NaN where missing),
        categories as codes, unseen categories as one more code."""
        out = np.empty((len(table), len(self.names)), dtype=np.float64)
        for j, (name, kind) in enumerate(zip(self.names, self.kinds, strict=True)):
            series = self._column(table, name, what)
            if name in self.means:
                out[:, j] = _numeric(series, kind)
            else:
                labels = self.categories[name][0]
                out[:, j] = _codes(series, labels).astype(np.float64)
                out[series.isna().to_numpy(), j] = np.nan
        return out


def _codes(series: Any, labels: list[Any]) -> NDArray[np.int64]:
    """Each value's position among ``labels``; ``len(labels)`` for a value not among them."""
    import pandas as pd

    index = pd.Index(labels, dtype=object)
    code = np.asarray(index.get_indexer(series.astype(object)), dtype=np.int64)
    code[code < 0] = len(labels)
    return code


def fit_encoder(reference: Any, columns: Sequence[str] | None) -> Encoder:
    """Learn the encoding from the reference table (a pandas DataFrame)."""
    names = tuple(str(c) for c in reference.columns) if columns is None else tuple(columns)
    if not names:
        raise EmptyDataError("there are no columns to compare; pass data with columns")
    if len(reference) == 0:
        raise EmptyDataError("the reference has no rows; pass a reference with data")
    absent = [n for n in names if n not in reference.columns]
    if absent:
        raise ColumnMismatchError(
            f"columns {absent} are not in the reference", missing=absent, unexpected=[]
        )
    kinds: list[Kind] = []
    means: dict[str, float] = {}
    categories: dict[str, tuple[list[Any], FloatArray]] = {}
    for name in names:
        series = reference[name]
        kind = infer_kind(series)
        kinds.append(kind)
        if kind in ("numeric", "datetime"):
            values = _numeric(series, kind)
            present = values[~np.isnan(values)]
            means[name] = float(present.mean()) if len(present) else 0.0
        else:
            counts = series.dropna().astype(object).value_counts(sort=True)
            labels = list(counts.index)
            # Missing values count as the most frequent category, which replaces them.
            tally = counts.to_numpy(dtype=np.float64)
            if len(tally):
                tally[0] += float(series.isna().sum())
            frequency = tally / max(len(series), 1)
            categories[name] = (labels, frequency)
    return Encoder(names, tuple(kinds), means, categories)
