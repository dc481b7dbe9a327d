"""Two cores for one ``check``: a share of independent tasks run in a forked child (issue 23).

``run_split(here, there)`` runs the callables ``here`` in this process and ``there`` in a child forked
for them, whose results come back pickled through a pipe; it returns both lists of results, each in
its tasks' order, exactly as running them all here would. Where forking is not possible or not safe
(no ``fork``, other threads running, one core, ``DELIBERATION_JOBS=1``) or the child fails in any way (an
exception, a signal, an unpicklable result), its tasks run here instead: the outcome is the same,
only slower. The tasks must be pure (their effects inside a child are lost) and their results picklable.
"""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Callable, Sequence

#: ``DELIBERATION_JOBS=1``: every task in this process (to compare, or to profile).
ENV = "DELIBERATION_JOBS"


def can_fork() -> bool:
    """True when a child may run beside this process.

    That is: ``fork`` exists, no other thread runs, this process may use two cores or more, and
    ``DELIBERATION_JOBS`` does not say 1.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return (hasattr(os, "fork") and threading.active_count() == 1 and cores > 1
            and os.environ.get(ENV, "").strip() not in ("0", "1"))


def idle_core() -> bool:
    """True when another core is likely free: the load average (1 minute) below the cores, less one half.

    ``make -l`` waits so. A share that costs more work in all (pickled results) pays only then: on a busy
    machine it is slower than one process.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return True
    return load < cores - 0.5


def run_split(here: Sequence[Callable[[], object]], there: Sequence[Callable[[], object]]) -> tuple[list, list]:
    """Results of ``here`` (run in this process) and of ``there`` (in a forked child, if possible), in order."""
    if not there or not can_fork():
        return [task() for task in here], [task() for task in there]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its tasks, their results down the pipe, then gone without any clean-up
        code = 1
        try:
            os.close(read_end)
            payload = pickle.dumps([task() for task in there], protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        mine = [task() for task in here]
    finally:
        with os.fdopen(read_end, "rb") as pipe:
            payload = pipe.read()  # until the child closes its end (done, failed or killed)
        _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        try:
            return mine, pickle.loads(payload)  # noqa: S301 - written by our own child, just now
        except Exception:  # noqa: BLE001, S110 - a truncated payload: the tasks run here below
            pass
    return mine, [task() for task in there]
