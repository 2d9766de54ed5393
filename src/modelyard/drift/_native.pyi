# The compiled counter of _native.c (optional; see _binning.count_below).
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
