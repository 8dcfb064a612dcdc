"""The compiled searches: numba versions of the plain search functions, loaded on first use.

The searches are written once, as plain Python in numba's subset (:mod:`planner.search._heap`,
:mod:`planner.search._plain_searches`), so they run interpreted as well as compiled. This
module compiles them: importing it imports numba, and the first call of each kernel loads
it from numba's on-disk cache (``cache=True``, beside the source) or compiles it. Nothing
imports it at module level except other kernel modules: a command that needs no compiled
search does not pay for numba.

A function that calls another is compiled with the compiled callee in place of the plain
one (:func:`compiled`), since numba calls only compiled functions.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

from numba import njit

from planner.search import _heap, _plain_searches


def compiled(function: Callable[..., Any], **callees: Any) -> Any:
    """``njit(cache=True)`` of ``function`` with the global names ``callees`` bound to the
    given compiled functions instead of the plain ones its module holds."""
    namespace = {**function.__globals__, **callees}
    rebound = types.FunctionType(
        function.__code__, namespace, function.__name__, function.__defaults__
    )
    rebound.__qualname__ = function.__qualname__
    rebound.__module__ = function.__module__
    rebound.__doc__ = function.__doc__
    return njit(cache=True)(rebound)


push = compiled(_heap.push)
pop = compiled(_heap.pop)
push_growing = compiled(_heap.push_growing, push=push)
chord = compiled(_plain_searches.chord)
bidirectional = compiled(_plain_searches.bidirectional, push=push, pop=pop, chord=chord)
astar = compiled(_plain_searches.astar, push=push, pop=pop)
