"""``scan --ray``: the same analysis as Ray tasks, on this machine or a cluster.

The driver streams the paths (it never lists the whole input) and keeps a bounded
window of tasks in flight, four per CPU the cluster offers. Workers read each file
from its path, so image bytes never pass through the driver: on a cluster the
paths must be readable from every node (a shared or network file system). Each task
analyses one path with exactly the code a local worker runs
(:func:`telltales.scan._analyse_path`) and returns the JSON Lines row, which the
driver appends, so the output, the resume and the error rows are those of a local
scan. A task whose worker process dies is retried once by Ray on another worker;
if that dies too, the path gets an error row and the scan goes on.

Ray is an optional extra (``pip install 'telltales[ray]'``). Nothing is sent
anywhere: usage statistics are switched off before Ray starts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from .errors import TelltalesError

PER_CPU = 4  # tasks in flight per cluster CPU


def _remote_analyse():
    import ray

    @ray.remote(max_retries=1, num_cpus=1)
    def analyse(path: str, options: dict[str, Any]) -> dict[str, Any]:
        from . import scan

        if scan._WORKER.get("options") != options:  # once per worker process
            scan._init_pool_worker(options)
        return scan._analyse_path(path)

    return analyse


def start(address: str | None, num_cpus: int | None = None) -> bool:
    """Connect to ``address`` (``auto``, ``ray://host:port``) or start a local Ray.

    Returns whether this call started Ray (and so should shut it down)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
    except ImportError:
        raise TelltalesError("--ray needs Ray: pip install 'telltales[ray]'") from None
    if ray.is_initialized():
        return False
    kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR"}
    try:
        if address and address != "local":
            ray.init(address=address, **kw)
        else:
            ray.init(num_cpus=num_cpus, object_store_memory=100 * 1024**2, **kw)
    except Exception as exc:  # noqa: BLE001 - Ray raises many kinds; the user needs one line
        raise TelltalesError(f"cannot start or join Ray ({address or 'local'}): {exc}") from None
    return True


def run(
    todo: Iterator[str],
    options: dict[str, Any],
    write: Callable[[dict[str, Any]], None],
    crash_row: Callable[[str, str], dict[str, Any]],
    *,
    address: str | None = None,
    num_cpus: int | None = None,
) -> None:
    """Analyse every path of ``todo`` as a Ray task and ``write`` each row as it arrives."""
    import ray

    started = start(address, num_cpus)
    try:
        analyse = _remote_analyse()
        window = max(1, PER_CPU * int(ray.cluster_resources().get("CPU", 1)))
        inflight: dict[Any, str] = {}
        exhausted = False
        while True:
            while not exhausted and len(inflight) < window:
                path = next(todo, None)
                if path is None:
                    exhausted = True
                else:
                    inflight[analyse.remote(path, options)] = path
            if not inflight:
                return
            ready, _ = ray.wait(list(inflight), num_returns=1)
            for ref in ready:
                path = inflight.pop(ref)
                try:
                    row = ray.get(ref)
                except ray.exceptions.RayError as exc:  # the worker died twice, or the task was lost
                    row = crash_row(path, f"the analysis process crashed on this file ({type(exc).__name__})")
                write(row)
    finally:
        if started:
            ray.shutdown()
