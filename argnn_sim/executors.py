"""Worker pools for every command that runs many units: a process pool whose workers
start with Ctrl-C held back and one BLAS thread each, an inline executor, and Dask.

:func:`make_executor` is the one way the sweeps, the comparisons and the studies get their
workers; :func:`stop_workers` ends a pool's processes at once (Ctrl-C, an error);
:func:`pin_blas` gives the calling process one BLAS/OpenMP thread (workers share the cores).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from .config import ConfigError

__all__ = ["InlineExecutor", "check_jobs", "make_executor", "pin_blas", "stop_workers"]

_PINNED = False


def pin_blas() -> None:
    """One BLAS/OpenMP thread in this process (workers share the machine's cores)."""
    global _PINNED
    if _PINNED:
        return
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        pass
    _PINNED = True

class InlineExecutor(cf.Executor):
    """Runs each call at submit time in this process (tests, debugging, notebooks)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        """Call ``fn`` with the arguments now, in this process; its result (or its exception)
        in a finished future.

        Parameters
        ----------
        fn : callable
            The function.
        args, kwargs
            Its arguments.

        Returns
        -------
        concurrent.futures.Future
        """
        fut: cf.Future[Any] = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001
            fut.set_exception(exc)
        return fut


def check_jobs(jobs: int | None) -> int:
    """The number of worker processes: ``jobs``, or every core when ``None``.

    Parameters
    ----------
    jobs : the ``--jobs`` given (``None``: all cores).

    Returns
    -------
    int

    Raises
    ------
    ConfigError
        Below 1, or above ``max(4 x cores, 64)`` (more only slows the machine down).
    """
    cores = os.cpu_count() or 1
    if jobs is not None and not 1 <= jobs <= max(4 * cores, 64):
        raise ConfigError(f"--jobs {jobs}: give from 1 to {max(4 * cores, 64)} workers "
                          f"(this machine has {cores} cores)")
    return jobs or cores


def _start_all(ex: Any, jobs: int) -> None:
    """Make a ``ProcessPoolExecutor`` start all its ``jobs`` workers now: each submit that
    finds no idle worker starts one, so ``jobs`` tasks submitted together start them all
    (checked on the pool's process table where it has one; a few more rounds otherwise)."""
    for _ in range(5):
        for f in [ex.submit(time.sleep, 0.01) for _ in range(jobs)]:
            f.result()
        started = getattr(ex, "_processes", None)
        if not isinstance(started, dict) or len(started) >= jobs:
            return


@contextlib.contextmanager
def make_executor(scheduler: str | None = None, jobs: int | None = None
                  ) -> Iterator[cf.Executor]:
    """An executor by name, shut down on exit (a context manager).

    Parameters
    ----------
    scheduler : ``inline`` (this process), ``processes`` (default, ``jobs`` workers),
        ``local-dask`` (a Dask ``LocalCluster``, one thread per worker) or a Dask scheduler
        address such as ``tcp://host:8786``.
    jobs : workers (default: all cores).

    Yields
    ------
    concurrent.futures.Executor

    Examples
    --------
    >>> with make_executor("inline") as ex:
    ...     ex.submit(sum, [1, 2]).result()
    3
    """
    jobs = check_jobs(jobs)
    scheduler = scheduler or "processes"
    if scheduler == "inline":
        yield InlineExecutor()
        return
    if scheduler == "processes":
        yield from _process_pool(jobs)
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError(f"--scheduler {scheduler!r} needs Dask: pip install "
                          "'argnn-sim[dask]' (dask[distributed])") from None
    if scheduler == "local-dask":
        with _pinned_env():
            cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
        client = Client(cluster)
    elif "://" in scheduler:
        cluster = None
        try:
            client = Client(scheduler, timeout=30)
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"--scheduler {scheduler!r}: no Dask scheduler answers there "
                              f"({type(exc).__name__}); start one (dask scheduler) or use "
                              "--scheduler processes") from None
    else:
        raise ConfigError(f"--scheduler {scheduler!r} is not known; choose inline, processes, "
                          "local-dask or a Dask scheduler address (tcp://host:8786)")
    try:
        client.run(pin_blas)
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _process_pool(jobs: int) -> Iterator[cf.Executor]:
    """A pool of ``jobs`` spawned worker processes, all started with SIGINT blocked, stopped
    on any exception."""
    import multiprocessing as mp

    # the pool's resource tracker cleans up the queues of workers stopped by Ctrl-C;
    # it does so without a warning on the command's stderr (it inherits -W options)
    quiet = "ignore::UserWarning:multiprocessing.resource_tracker"
    if quiet not in sys.warnoptions:
        sys.warnoptions.append(quiet)
    ex = None
    try:
        with _pinned_env(), _sigint_blocked():
            ex = cf.ProcessPoolExecutor(max_workers=jobs,
                                        mp_context=mp.get_context("spawn"),
                                        initializer=_worker_init)
            # start every worker now, with SIGINT blocked: they inherit the mask and
            # ignore SIGINT before taking it back, so a Ctrl-C reaches this process
            # alone (here, as soon as the block ends), which stops them and keeps its
            # work. The pool starts a worker per submit while none is idle (spawn), so
            # `jobs` tasks submitted at once start them all; a worker started later,
            # outside this block, could die of a Ctrl-C with a traceback while it starts.
            _start_all(ex, jobs)
        yield ex
    except BaseException:
        if ex is not None:
            stop_workers(ex)
        raise
    ex.shutdown(wait=True, cancel_futures=True)


def _worker_init() -> None:
    """A worker process: one BLAS thread, SIGINT ignored (its parent stops it), and it ends
    itself within a second of its parent's end, however that came (no orphan left)."""
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # held back while starting
    pin_blas()
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="argnn-parent-watch", daemon=True).start()


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    """SIGINT held back in this block (a Ctrl-C arrives when it ends; processes started here
    inherit the block); main thread only."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def stop_workers(ex: cf.Executor, timeout: float = 2.0) -> None:
    """Stop a process pool's workers at once (Ctrl-C, an error): terminate, then kill what is
    still there after ``timeout`` seconds; queued work is cancelled. No process is left."""
    procs = list((getattr(ex, "_processes", None) or {}).values())
    for p in procs:
        try:
            p.terminate()
        except (OSError, ValueError, AttributeError):
            pass
    try:
        ex.shutdown(wait=False, cancel_futures=True)
    except Exception:  # noqa: BLE001 - a broken pool: its processes are handled below
        pass
    end = time.monotonic() + timeout
    for p in procs:
        try:
            p.join(max(0.0, end - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(1.0)
        except (OSError, ValueError, AttributeError, AssertionError):
            pass


@contextlib.contextmanager
def _pinned_env() -> Iterator[None]:
    """Child processes started in this block inherit one-thread BLAS settings."""
    vars_ = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    old = {v: os.environ.get(v) for v in vars_}
    os.environ.update({v: "1" for v in vars_})
    try:
        yield
    finally:
        for v, val in old.items():
            if val is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = val
