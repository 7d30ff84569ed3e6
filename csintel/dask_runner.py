"""Scale-out for the enrich stage: Prefect's Dask task runner from `[dask]`, and a bounded,
in-order window of submitted work (`flows/enrich.py` wires them)."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, TypeVar

from csintel.config import DaskConfig

if TYPE_CHECKING:
    from prefect_dask import DaskTaskRunner

T = TypeVar("T")
R = TypeVar("R")


def dask_task_runner(cfg: DaskConfig) -> DaskTaskRunner | None:
    """Prefect's Dask task runner for `[dask]`, or None when Dask is not configured.

    Raises:
        RuntimeError: When Dask is configured but prefect-dask is not installed.
    """
    if not cfg.address:
        return None
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:
        raise RuntimeError("[dask] address is set but prefect-dask is missing: "
                           "pip install 'csintel[dask]' (on the workers too)") from exc
    if cfg.address == "local":
        # Processes, not threads: tagging holds the GIL in its Python parts (rules, sentiment).
        return DaskTaskRunner(cluster_kwargs={"n_workers": cfg.n_workers, "threads_per_worker": cfg.threads_per_worker,
                                              "processes": True, "dashboard_address": None})
    return DaskTaskRunner(address=cfg.address)


def in_order(submit: Callable[[T], R], items: Iterable[T], ahead: int) -> Iterator[R]:
    """Submit `items` keeping at most `ahead` in flight; yield what `submit` returned, in order.

    The consumer handles each result before the next item is submitted past the window, so
    memory stays bounded and a kill loses at most `ahead` submitted items.
    """
    pending: deque[R] = deque()
    for item in items:
        pending.append(submit(item))
        if len(pending) >= ahead:
            yield pending.popleft()
    while pending:
        yield pending.popleft()
