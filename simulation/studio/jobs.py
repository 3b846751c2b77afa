"""The studio's work in the background: each run, comparison or plan is a job with its own id,
done by a thread while the page keeps answering, its progress and its result kept here.

A browser tab knows only the ids of the jobs it started (kept in the tab), so two tabs never
see each other's runs. Jobs run one at a time (a replication already uses the machine's
cores through the worker pool); the others queue. Finished jobs are forgotten after
``keep`` newer ones, oldest first, so a studio left open for days does not grow.
"""

from __future__ import annotations

import threading
import traceback
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from simulation.config import ScenarioError


@dataclass
class Job:
    """One piece of work: what it is, how far it has got, and its result or its problem."""

    kind: str
    done: int = 0
    total: int = 0
    result: object = None
    problem: str | None = None
    finished: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def share(self) -> float:
        return self.done / self.total if self.total else 0.0

    def progress(self, done: int, total: int) -> None:
        """Move the job's bar (called by the work as replications finish)."""
        self.done, self.total = done, total


class Jobs:
    """Jobs by id, run by one background thread."""

    def __init__(self, keep: int = 20) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="studio-job")
        self._keep = keep

    def start(self, kind: str, work: Callable[[Job], object]) -> str:
        """Queue ``work(job)`` and return the new job's id; the work moves the job's bar
        (``job.progress(done, total)``) and may leave files in ``job.extra``. A ScenarioError becomes the job's problem, worded for the planner;
        anything else is a problem too (the page says so), never a dead page."""
        job_id = uuid.uuid4().hex
        job = Job(kind)
        with self._lock:
            self._jobs[job_id] = job
            finished = [k for k, j in self._jobs.items() if j.finished]
            for old in finished[: max(len(finished) - self._keep, 0)]:
                del self._jobs[old]

        def run() -> None:
            try:
                job.result = work(job)
            except ScenarioError as exc:
                job.problem = "; ".join(exc.problems)
            except Exception as exc:  # shown on the page; the studio goes on
                traceback.print_exc()
                job.problem = f"{type(exc).__name__}: {exc}"
            finally:
                job.finished = True

        self._pool.submit(run)
        return job_id

    def get(self, job_id: str | None) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id or "")
