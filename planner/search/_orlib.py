"""Reader for OR-Library Steiner problem files (J. E. Beasley's steinb/c/d/e sets).

The format is whitespace-separated integers: ``n m``, then ``m`` lines ``u v w`` (nodes
numbered from 1), then the number of terminals ``t`` and ``t`` terminal numbers, which may
wrap over several lines.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp


def read_orlib(path: str | Path) -> tuple[sp.csr_array, np.ndarray, int, int]:
    """Read an OR-Library Steiner problem file.

    Parameters
    ----------
    path
        File in OR-Library format (``steinb1.txt`` ... ``steine20.txt``).

    Returns
    -------
    matrix : scipy.sparse.csr_array
        Symmetric ``n x n`` matrix of edge weights; parallel edges keep the lightest.
    terminals : numpy.ndarray
        Terminal node indices, 0-based.
    n, m : int
        Number of nodes and of edges as stated in the file.

    Raises
    ------
    ValueError
        If the file is truncated or a node number is outside ``1..n``.
    """
    tokens = np.array(Path(path).read_text().split(), dtype=np.int64)
    if tokens.size < 3:
        raise ValueError(f"{path}: not an OR-Library Steiner file (too short)")
    n, m = int(tokens[0]), int(tokens[1])
    end = 2 + 3 * m
    if tokens.size < end + 1:
        raise ValueError(f"{path}: expected {m} edges and a terminal count, file is truncated")
    edges = tokens[2:end].reshape(m, 3)
    t = int(tokens[end])
    terminals = tokens[end + 1 : end + 1 + t] - 1
    if terminals.size != t:
        raise ValueError(f"{path}: expected {t} terminals, found {terminals.size}")
    u = edges[:, 0] - 1
    v = edges[:, 1] - 1
    w = edges[:, 2].astype(np.float64)
    if m and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= n):
        raise ValueError(f"{path}: edge endpoint outside 1..{n}")
    if terminals.size and (terminals.min() < 0 or terminals.max() >= n):
        raise ValueError(f"{path}: terminal outside 1..{n}")
    # keep the lightest of parallel edges: sort by weight descending so the last write wins
    a = np.minimum(u, v)
    b = np.maximum(u, v)
    keep = a != b
    a, b, w = a[keep], b[keep], w[keep]
    key = a * n + b
    order = np.lexsort((-w, key))
    key, a, b, w = key[order], a[order], b[order], w[order]
    last = np.r_[key[1:] != key[:-1], True]
    a, b, w = a[last], b[last], w[last]
    matrix = sp.csr_array(
        (np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n)
    )
    return matrix, terminals, n, m
