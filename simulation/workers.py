"""Worker processes: how they start, how they die with their parent, and the pool a command
shares.

Inside ``one_pool()`` (every ``iopsim`` command runs inside one) all experiments share one
pool, started at first use and shut down when the scope ends: a plan's candidates, a robust
plan's futures, a precision run's batches and the pages built after a run do not each start
their own. Outside it (``import iopsim`` in a notebook, the tests) each experiment has a pool
of its own, shut down when it ends, so no worker outlives the call that needed it (a worker
forked from a process holds copies of that process's pipes: a long-lived one would keep, say,
a browser driver's pipe open and its parent waiting for it forever).

Light on purpose: the command line imports it before it knows whether it will simulate.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

_POOL: tuple[int, ProcessPoolExecutor] | None = None
_SCOPES: list[bool] = []


def _worker_start(parent: int) -> None:
    """Set up a worker process: it leaves Ctrl-C and SIGTERM to its parent, and dies with its
    parent however the parent ends (kill -9 included), never lingering as an orphan."""
    # Ctrl-C reaches the whole process group, and so does SIGTERM from `timeout`, a batch
    # scheduler or a service manager: workers leave both to the parent, which cancels the
    # queued work and lets the running replications finish. (A worker ended by the signal
    # would break the pool under cancelled work, and the pool's own thread would die with a
    # traceback: InvalidStateError CANCELLED.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    die_with_parent(parent)


def die_with_parent(parent: int) -> None:
    """End this process when ``parent`` ends: Linux's parent-death signal, and a watcher
    thread as well (other systems, or a parent that died before the signal was set)."""
    import threading

    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def new_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=workers, initializer=_worker_start, initargs=(os.getpid(),)
    )


@contextlib.contextmanager
def one_pool() -> Iterator[None]:
    """Within this scope every experiment shares one worker pool (started at first use; its
    workers fork from a parent that has imported the model, so they import nothing); the
    pool is shut down as the outermost scope ends (queued work cancelled, running work
    finished)."""
    _SCOPES.append(True)
    try:
        yield
    finally:
        _SCOPES.pop()
        if not _SCOPES:
            close_pool()


def shared_pool(workers: int) -> ProcessPoolExecutor:
    """The scope's pool of ``workers`` processes (see ``one_pool``); outside a scope, a pool
    kept until ``close_pool`` or the end of the process."""
    global _POOL
    if _POOL is not None and _POOL[0] == workers and not getattr(_POOL[1], "_broken", False):
        return _POOL[1]
    close_pool()
    _POOL = (workers, new_pool(workers))
    return _POOL[1]


def close_pool() -> None:
    """Shut the shared pool down (queued work cancelled, running work finished)."""
    global _POOL
    if _POOL is not None:
        pool, _POOL = _POOL[1], None
        shut_down(pool)


def shut_down(pool: ProcessPoolExecutor) -> None:
    """Shut ``pool`` down (queued work cancelled, running work finished). A signal that
    lands while the pool starts (its workers forked, its manager thread made but not yet
    started) leaves a pool whose shutdown cannot join that thread: its workers are ended
    here instead, and the command stops cleanly, without a traceback."""
    try:
        pool.shutdown(wait=True, cancel_futures=True)
    except RuntimeError:  # (cannot join thread before it is started)
        workers = list((getattr(pool, "_processes", None) or {}).values())
        for worker in workers:
            worker.kill()  # (workers ignore SIGTERM: they leave it to their parent)
        for worker in workers:
            worker.join(timeout=10)


@contextlib.contextmanager
def pool_for(workers: int) -> Iterator[ProcessPoolExecutor]:
    """The pool an experiment runs on: the scope's shared one, or (outside a scope) one of
    its own, shut down when the experiment ends."""
    if _SCOPES:
        yield shared_pool(workers)
        return
    pool = new_pool(workers)
    try:
        yield pool
    finally:
        shut_down(pool)


def chunks(count: int, workers: int) -> list[range]:
    """Job indices in chunks sent to workers together. A replication costs 50-500 ms and its
    round trip 1-3 ms (a pickled scenario out, its results back), so chunks stay small: one
    job each up to 64 jobs a worker, then about 32 chunks a worker (a sweep's hundreds of
    cells), so the last chunks still balance the load between workers."""
    size = max(1, count // (32 * workers))
    return [range(i, min(i + size, count)) for i in range(0, count, size)]


atexit.register(close_pool)  # a pool taken outside a scope is closed as the process ends
