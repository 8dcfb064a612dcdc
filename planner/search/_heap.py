"""The binary min-heap every search shares: float keys, int64 values, in arrays.

numba cannot use :mod:`heapq` on typed arrays, so the searches keep their queue in two
arrays (keys and values) and a size. A search that can bound its queue preallocates the
arrays and calls :func:`push`; one that cannot calls :func:`push_growing`, which grows them
when full and returns them (returning arrays costs reference counting on every call, so the
bounded searches do not pay for it). Both sift by moving a hole instead of swapping, one
write per array per level. Ties keep the order a swapping heap would give (an entry rises
only past a strictly larger key and sinks only below a strictly smaller one), so the
searches' answers do not depend on which heap they ran on.

These are plain Python functions: :mod:`planner.search.kernels` compiles them, with the
searches that call them, and the same code runs interpreted where a process's first search
does not pay for loading the compiled kernels (:mod:`planner.search.shortest_paths`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def push(keys: FloatArray, values: IntArray, size: int, key: float, value: int) -> int:
    """Add ``value`` with priority ``key`` to arrays with room for it; returns the new size."""
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
    return size + 1


def push_growing(
    keys: FloatArray, values: IntArray, size: int, key: float, value: int
) -> tuple[FloatArray, IntArray, int]:
    """:func:`push`, first growing full arrays; returns the arrays in use and the new size."""
    if size == keys.shape[0]:
        grown_keys = np.empty(2 * size + 64)
        grown_keys[:size] = keys[:size]
        grown_values = np.empty(2 * size + 64, np.int64)
        grown_values[:size] = values[:size]
        keys = grown_keys
        values = grown_values
    return keys, values, push(keys, values, size, key, value)


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
