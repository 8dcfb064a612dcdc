"""National runs on dask.distributed: the last mile by state (and the engine of batches).

One engine for the command line and the service (the last mile's use case,
:mod:`usecases.last_mile`, calls it). :func:`dask_client` gives a client of a
``LocalCluster`` (``--workers N``: N processes of one thread on this machine) or of an
existing scheduler (``--scheduler tcp://host:8786``, ``TRAZO_SCHEDULER`` for the service),
or no client: the partitions then run one after another in this process. The semantics are
those of :mod:`planner.plans.national_last_mile`, so every engine gives the same proposal.

What travels through the scheduler is small: the store (its location), the cost model path,
a state code and the threshold go out, one state's proposal comes back. Each worker process
opens the store itself and loads the priced network, localities and states once (from the
store's planning cache when it has one), so every worker must see the same store: a shared
filesystem for a GeoPackage, or a PostGIS store.

A worker that dies mid-partition is replaced and its partition rescheduled by dask (up to
``distributed.scheduler.allowed-failures`` deaths); a partition that raises is retried
:data:`RETRIES` times; a partition that still fails fails the whole run with an error naming
its state, and nothing is stored.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd

from layers.errors import PartitionFailedError, SchedulerUnreachableError, TrazoError
from layers.kinds import LayerKind
from layers.store_api import LayerStore
from planner.network.cost_model import load_cost_model
from planner.network.planning_network import PlanningNetwork
from planner.plans.national_last_mile import (
    StatePartition,
    merge_state_plans,
    plan_state,
    state_partitions,
)
from planner.proposals.metrics import ProposalMetrics, compute_metrics
from planner.proposals.proposal import Proposal
from usecases.context import shared_context, stored_frames, stored_localities, stored_states

logger = logging.getLogger(__name__)

RETRIES = 2
"""Extra attempts of a partition that raised (a worker lost mid-task is rescheduled anyway)."""

T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[[int, int, str], None]
"""Called with partitions done, partitions in all, and what was just finished."""


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A dask client for a national run, or None to run in this process.

    Parameters
    ----------
    workers
        Start a ``LocalCluster`` of this many single-threaded worker processes (planning
        holds the GIL, so processes, not threads, run partitions side by side).
    scheduler
        Address of a running scheduler (``tcp://host:8786``); wins over ``workers``.

    The cluster started here is closed on exit; an existing scheduler is left running.
    """
    if not scheduler and not workers:
        yield None
        return
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as err:
            raise SchedulerUnreachableError(
                f"cannot reach the dask scheduler at {scheduler!r}: {err}"
            ) from None
        with client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",  # a free port: several clusters may run
            scheduler_port=0,
            host="127.0.0.1",
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def run_partitions(
    client: Any,
    task: Callable[..., R],
    items: Sequence[T],
    *args: Any,
    label: Callable[[T], str] = str,
    progress: Progress | None = None,
    work: Sequence[float] | None = None,
) -> list[R]:
    """Run ``task(item, *args)`` for every item; return the results in the items' order.

    With a client each item is one dask task (``pure=False``, :data:`RETRIES` retries);
    without one they run here, in order. Either way ``progress`` hears of each one done.
    ``work`` estimates each item's size: on a cluster the largest start first (longest
    processing time first), each on the first worker free, so a big item does not start
    last and leave the other workers idle while it finishes. Results never depend on the
    order tasks ran in.

    Raises
    ------
    PartitionFailedError
        Naming the first item (by ``label``) whose task failed after its retries; the
        other tasks are cancelled.
    """
    total = len(items)
    results: list[Any] = [None] * total
    if client is None:
        for done, item in enumerate(items, start=1):
            results[done - 1] = _attempt(task, item, args, label)
            if progress:
                progress(done, total, label(item))
        return results
    from distributed import as_completed

    sizes = list(work) if work is not None else [0.0] * total
    waiting = iter(sorted(range(total), key=lambda i: (-sizes[i], i)))
    futures: list[Any] = []
    position: dict[str, int] = {}

    def submit_next() -> Any:
        i = next(waiting, None)
        if i is None:
            return None
        future = client.submit(
            task,
            items[i],
            *args,
            retries=RETRIES,
            pure=False,
            key=f"trazo-{i}-{label(items[i])}",
        )
        futures.append(future)
        position[future.key] = i
        return future

    # dask knows no task's length, and binds the first tasks it receives to workers at
    # once: submitted all together, the first items listed ran first whatever their size
    # and a worker could queue a long one while another was idle. One item per worker
    # thread, and the next largest when one ends, keeps every worker busy with the
    # largest items left (longest processing time first) on a cluster of any size.
    running = as_completed([f for f in (submit_next() for _ in range(_slots(client))) if f])
    try:
        for done, future in enumerate(running, start=1):
            i = position[future.key]
            if future.status != "finished":
                error = future.exception()
                raise _failed(label(items[i]), error)
            results[i] = future.result()
            if progress:
                progress(done, total, label(items[i]))
            while running.count() < _slots(client):
                follower = submit_next()
                if follower is None:
                    break
                running.add(follower)
    finally:
        client.cancel(futures)
    return results


def _slots(client: Any) -> int:
    """Worker threads of the cluster now (workers may come, go or be restarted)."""
    return max(1, sum(client.nthreads().values()))


def _attempt(
    task: Callable[..., R], item: T, args: tuple[Any, ...], label: Callable[[T], str]
) -> R:
    try:
        return task(item, *args)
    except Exception as err:
        raise _failed(label(item), err) from err


def _failed(what: str, error: BaseException | None) -> PartitionFailedError:
    if isinstance(error, TrazoError):
        detail = f"{error.code}: {error.message}"
    else:
        detail = f"{type(error).__name__}: {error}"
    return PartitionFailedError(f"partition {what} failed: {detail}")


# ------------------------------------------------------------------- last mile by state


@dataclass(frozen=True)
class NationalRequest:
    """What every partition of a national last mile shares (sent with each task)."""

    store: LayerStore
    cost_model: Path | None
    min_population: int


def state_label(partition: StatePartition) -> str:
    """How a partition is named in progress and errors: ``27 Tabasco``."""
    return f"{partition.cve_ent} {partition.name}"


def national_partitions(
    store: LayerStore, localities: gpd.GeoDataFrame | None = None
) -> tuple[list[StatePartition], int]:
    """Every stored state's localities, in state-code order, and the count in no state.

    ``localities`` is the stored localities frame when already loaded (it is read otherwise).
    """
    states = stored_states(stored_frames(store, LayerKind.STATES))
    if localities is None:
        localities = stored_localities(stored_frames(store, LayerKind.LOCALITIES))
    return state_partitions(localities, states)


def plan_national_last_mile(
    store: LayerStore,
    cost_model: Path | None,
    *,
    min_population: int,
    client: Any = None,
    progress: Progress | None = None,
    name: str | None = None,
    loaded: tuple[PlanningNetwork, gpd.GeoDataFrame] | None = None,
) -> Proposal:
    """Plan the last mile of every stored state (see :mod:`planner.plans.national_last_mile`).

    ``client`` runs the states on a dask cluster (:func:`dask_client`); None runs them here,
    one after another, on ``loaded`` (the priced network and localities this process has
    already loaded) or on inputs loaded from the store. Every way gives the same proposal.

    Raises
    ------
    PartitionFailedError
        A state's plan failed; its code and name lead the message. Nothing is stored.
    """
    request = NationalRequest(store, cost_model, min_population)
    task: Callable[[StatePartition, NationalRequest], Proposal | None] = plan_partition
    if client is None and loaded is not None:
        network, localities = loaded

        def task(partition: StatePartition, request: NationalRequest) -> Proposal | None:
            return plan_state(network, localities, partition, min_population=min_population)

    localities = (
        loaded[1] if loaded else stored_localities(stored_frames(store, LayerKind.LOCALITIES))
    )
    partitions, outside = national_partitions(store, localities)
    plans = run_partitions(
        client,
        task,
        partitions,
        request,
        label=state_label,
        progress=progress,
        work=partition_work(partitions, localities, min_population),
    )
    return merge_state_plans(
        list(zip(partitions, plans, strict=True)),
        min_population=min_population,
        outside=outside,
        name=name,
    )


def partition_work(
    partitions: Sequence[StatePartition], localities: gpd.GeoDataFrame | None, min_population: int
) -> list[float]:
    """Each state's size for scheduling: its localities of at least ``min_population``.

    A state's plan time grows with the localities it plans (their sites, coverage pairs and
    feeders); Veracruz, with the most, takes the longest.
    """
    if localities is None:
        return [0.0] * len(partitions)
    big = (localities["population"].to_numpy() >= min_population).astype(float)
    return [float(big[list(part.rows)].sum()) for part in partitions]


def measure_national(
    store: LayerStore, cost_model: Path | None, proposal: Proposal
) -> ProposalMetrics:
    """The national proposal's metrics, with states and municipalities crossed."""
    return compute_metrics(
        proposal,
        stored_frames(store, LayerKind.STATES),
        stored_frames(store, LayerKind.MUNICIPALITIES),
        latency_us_per_km=load_cost_model(cost_model).latency.us_per_km,
    )


def plan_partition(partition: StatePartition, request: NationalRequest) -> Proposal | None:
    """One state's plan; runs on a worker (or here, serially)."""
    context = shared_context(request.store, request.cost_model)
    localities = stored_localities(context.localities)
    return plan_state(context.network, localities, partition, min_population=request.min_population)
