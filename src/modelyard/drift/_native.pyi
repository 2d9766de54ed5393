# The compiled kernels of _native.c (optional; see _binning, _monitor_counts, _ks_pvalue).
import numpy as np
from numpy.typing import NDArray

def count_below(
    values: NDArray[np.float64],
    edges: NDArray[np.float64],
    out: NDArray[np.int64],
    transposed: bool = False,
    /,
) -> None: ...
def sort_rows(values: NDArray[np.float64], /) -> None: ...
def segment_distances(
    reference: NDArray[np.float64],
    prefix: NDArray[np.float64],
    current: NDArray[np.float64],
    centre: float,
    offsets: NDArray[np.int64],
    numerator: NDArray[np.int64],
    w1: NDArray[np.float64],
    /,
) -> None: ...
def ks_exact_unequal(
    m: int, n: int, numerator: NDArray[np.int64], out: NDArray[np.float64], /
) -> None: ...
