"""Trazo's use cases, each written once and called by every adapter.

The command line, the HTTP routes and the job workers (all in :mod:`api`) translate what
they are given and call these functions; the functions take explicit arguments (a store,
a cost model file, a request model), never settings, and know no web or console
framework. They use :mod:`layers`, :mod:`planner` and :mod:`maps`.

- :mod:`usecases.context`: what planning needs from the store (priced network, places,
  admin and locality layers), loaded once per command or per process.
- :mod:`usecases.route`, :mod:`usecases.backbone`, :mod:`usecases.last_mile`: resolve
  places or an area and plan a proposal; :mod:`usecases.national` runs a last mile
  state by state (serially or on dask).
- :mod:`usecases.requests`: the proposal requests the service accepts and its jobs carry.
- :mod:`usecases.proposals`: measure a proposal and store it under a free name.
- :mod:`usecases.proposal_files`: export a stored proposal as a file, draw its map.
- :mod:`usecases.scenario` (with ``scenario_workspace``, ``scenario_tables``,
  ``scenario_outputs`` and ``scenario_batch``): run a scenario end to end, writing its
  files, map and summary; several at once.
- :mod:`usecases.jobs`: jobs recorded in the store (``store``) and run off the request on
  a worker pool (``runner``); the service gives the runner its work function.

Modules are imported on demand (nothing here), so a command loads only what it uses.
"""
