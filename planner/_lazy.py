"""Public names of a package imported on first use, so importing one module stays cheap.

``from planner.network.cost_model import CostModel`` runs ``planner/__init__.py`` and
``planner/network/__init__.py`` first; were those to import their public names eagerly,
every command would pay for the compiled search kernels and the optimiser (see
``tests/api/test_cli_imports.py``). Each package ``__init__`` instead names where its public
names live and imports them for type checkers only.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence


def lazy_attributes(package: str, where: Mapping[str, Sequence[str]]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package`` that imports ``where``'s names on first use.

    ``where`` maps a module to the public names it defines.
    """
    module_of = {name: module for module, names in where.items() for name in names}

    def __getattr__(name: str) -> object:  # noqa: N807 (the module hook's own name)
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__
