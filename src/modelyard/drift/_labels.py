"""Predictions and labels, from a DataFrame, Arrow table or mapping, into the arrays metrics need.

Labels may arrive later than predictions, in their own table; they are joined by an id column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from modelyard.drift._columns import is_arrow
from modelyard.drift._metrics import Task
from modelyard.errors import ColumnMismatchError, ColumnTypeError, InputError

__all__ = ["join_labels", "prepare", "read_columns"]


def read_columns(data: Any, names: Sequence[str], what: str) -> dict[str, Any]:
    """The named columns of ``data`` as pandas Series (only those are converted)."""
    import pandas as pd

    if is_arrow(data):
        available = [str(n) for n in data.schema.names]
    elif isinstance(data, Mapping) or type(data).__name__ == "DataFrame":
        available = [str(n) for n in data]
    else:
        raise InputError(
            f"{what} must be a pandas DataFrame, a pyarrow Table or a mapping of column name to "
            f"values, not a {type(data).__name__}",
            type_name=type(data).__name__,
        )
    absent = [n for n in names if n not in available]
    if absent:
        raise ColumnMismatchError(
            f"{what} has no column {absent[0]!r}; its columns are {available[:20]}",
            missing=absent,
            unexpected=[],
        )
    if is_arrow(data):
        return {n: data.column(available.index(n)).to_pandas() for n in names}
    found = {}
    for name in names:
        column = data[name]
        if (type(column).__module__ or "").startswith("pandas"):
            found[name] = pd.Series(column).reset_index(drop=True)
        else:
            found[name] = pd.Series(np.asarray(column))
    return found


def join_labels(data: Mapping[str, Any], labels: Any, id: str | None, label: str) -> Any:
    """The label of each row of ``data``, looked up by ``id`` in ``labels`` (None where absent)."""
    import pandas as pd

    if id is None:
        raise InputError(
            "labels= arrives separately and is joined to the predictions by an id column; "
            "pass id= (the column both have)"
        )
    found = read_columns(labels, [id, label], "labels")
    keys = pd.Index(found[id])
    if keys.has_duplicates:
        twice = keys[keys.duplicated()].unique()[:5].tolist()
        raise InputError(
            f"labels has {int(keys.duplicated().sum())} repeated ids (e.g. {twice}); each "
            "prediction takes one label, so keep one label per id",
            duplicates=twice,
        )
    position = keys.get_indexer(pd.Index(data[id]))
    values = found[label].astype(object).to_numpy()
    joined = np.where(position >= 0, values[np.maximum(position, 0)], None)
    return pd.Series(joined)


def _positive(truth: Any, positive: object) -> object:
    seen = truth.dropna().unique().tolist()
    if len(seen) > 2:
        raise InputError(
            f"the labels take {len(seen)} values (e.g. {seen[:5]}); only binary classification "
            "is supported so far: map the labels to two classes first",
            values=seen[:20],
        )
    if positive is not None:
        return positive
    if set(seen) <= {0, 1}:
        return 1
    raise InputError(
        f"cannot tell which label is the positive class among {seen}; pass positive=",
        values=seen,
    )


def prepare(
    frame: Mapping[str, Any],
    truth: Any,
    prediction: str,
    label: str,
    task: Task,
    positive: object,
    threshold: float,
) -> tuple[
    NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64] | None, object
]:
    """Which rows are labelled, and the truth, prediction and score of every row."""
    import pandas as pd

    predicted = frame[prediction]
    usable = (truth.notna() & predicted.notna()).to_numpy()
    if task == "regression":
        for name, column in ((label, truth), (prediction, predicted)):
            dtype = pd.Series(column).infer_objects().dtype
            if not pd.api.types.is_numeric_dtype(dtype):
                raise ColumnTypeError(
                    f"regression needs numbers in {name!r}, which holds {dtype}; convert it, or "
                    "pass task='classification' for classes",
                    column=name,
                )
        t = pd.to_numeric(truth).to_numpy(dtype=np.float64, na_value=np.nan)
        p = predicted.to_numpy(dtype=np.float64, na_value=np.nan)
        return usable, t, p, None, None
    positive = _positive(truth[usable], positive)
    t = (truth == positive).to_numpy(dtype=np.float64)
    dtype = predicted.dtype
    if pd.api.types.is_float_dtype(dtype):
        score = predicted.to_numpy(dtype=np.float64, na_value=np.nan)
        outside = usable & ((score < 0) | (score > 1))
        if outside.any():
            raise InputError(
                f"{prediction!r} holds {int(outside.sum())} values outside [0, 1]; pass the "
                "predicted probability of the positive class, or the predicted labels",
                column=prediction,
            )
        return usable, t, (score >= threshold).astype(np.float64), score, positive
    return usable, t, (predicted == positive).to_numpy(dtype=np.float64), None, positive
