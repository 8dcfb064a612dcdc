"""The binary min-heap every compiled search shares: float keys, int64 values, in arrays.

numba cannot use :mod:`heapq` on typed arrays, so the searches keep their queue in two
arrays (keys and values) and a size. :func:`push` grows the arrays when they are full and
returns them, so a caller that cannot bound its queue need not; a caller that can
preallocates and never pays for a copy. Both functions move a hole instead of swapping, so
every level of a sift costs one write per array. Ties keep the order a swapping heap
would give (an entry rises only past a strictly larger key and sinks only below a strictly
smaller one), so the searches' answers do not depend on which heap they ran on.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@njit(cache=True)
def push(
    keys: FloatArray, values: IntArray, size: int, key: float, value: int
) -> tuple[FloatArray, IntArray, int]:
    """Add ``value`` with priority ``key``; returns the (possibly grown) arrays and size."""
    if size == keys.shape[0]:
        grown_keys = np.empty(2 * size + 64)
        grown_keys[:size] = keys[:size]
        grown_values = np.empty(2 * size + 64, np.int64)
        grown_values[:size] = values[:size]
        keys = grown_keys
        values = grown_values
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        values[i] = values[parent]
        i = parent
    keys[i] = key
    values[i] = value
    return keys, values, size + 1


@njit(cache=True)
def pop(keys: FloatArray, values: IntArray, size: int) -> tuple[float, int, int]:
    """Remove the entry of least key; returns its key, its value and the new size."""
    key = keys[0]
    value = values[0]
    size -= 1
    if size > 0:
        last_key = keys[size]
        last_value = values[size]
        i = 0
        while True:
            child = 2 * i + 1
            if child >= size:
                break
            if child + 1 < size and keys[child + 1] < keys[child]:
                child += 1
            if keys[child] >= last_key:
                break
            keys[i] = keys[child]
            values[i] = values[child]
            i = child
        keys[i] = last_key
        values[i] = last_value
    return key, value, size
