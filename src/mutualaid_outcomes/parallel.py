"""Run independent replicates serially, on local worker processes or on a Dask cluster.

:func:`run_replicates` calls a function once per replicate with its own random
generator. The generator of replicate ``i`` is derived from the root seed and the
*replicate index* ``i`` (``numpy.random.SeedSequence`` spawn key ``(..., i)``), never
from a worker id or from the order in which workers pick up work, so the results are
bit-identical for any number of workers, any batch size and for a Dask cluster.

Examples
--------
>>> import numpy as np
>>> from mutualaid_outcomes.parallel import run_replicates
>>> def mean_of_ten(rng):
...     return float(rng.normal(size=10).mean())
>>> serial = run_replicates(mean_of_ten, 4, rng=1)
>>> serial == run_replicates(mean_of_ten, 4, rng=1, batch_size=3)
True
>>> [round(v, 3) for v in serial]
[-0.035, 0.318, 0.411, -0.085]
"""

from __future__ import annotations

import functools
import math
import numbers
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from ._rng import RNGLike
from ._validation import renamed
from .errors import ArgumentTypeError, DataValidationError

__all__ = [
    "available_cores",
    "blas_single_thread",
    "run_replicates",
    "replicate_seed",
    "root_seed_sequence",
    "n_workers",
]

T = TypeVar("T")

#: Batches per worker when ``batch_size`` is not given (some slack for uneven replicates).
_BATCHES_PER_WORKER = 4


def root_seed_sequence(rng: RNGLike = None, argument: str = "rng") -> np.random.SeedSequence:
    """Turn ``rng`` into the root :class:`numpy.random.SeedSequence` of a set of replicates.

    Parameters
    ----------
    rng : int, numpy.random.Generator, numpy.random.SeedSequence or None
        An integer seed (``SeedSequence(seed)``), a seed sequence (used as is), a generator
        (a child of its seed sequence is spawned, so two calls with the same generator give
        different, reproducible streams) or ``None`` (fresh operating-system entropy).
    argument : str
        Name used in error messages.

    Returns
    -------
    numpy.random.SeedSequence

    Raises
    ------
    ArgumentTypeError
        ``rng`` is of another type or a negative integer.

    Examples
    --------
    >>> root_seed_sequence(5).entropy
    5
    """
    if rng is None:
        return np.random.SeedSequence()
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        seq = getattr(rng.bit_generator, "seed_seq", None)
        if isinstance(seq, np.random.SeedSequence):
            return seq.spawn(1)[0]
        # a bit generator built without a SeedSequence: seed a new sequence from its stream
        return np.random.SeedSequence(rng.integers(0, 2**63, size=4).tolist())
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if int(rng) < 0:
            raise ArgumentTypeError(f"`{argument}` must be a non-negative integer seed; got {rng}.")
        return np.random.SeedSequence(int(rng))
    raise ArgumentTypeError(
        f"`{argument}` must be None, a non-negative int, a numpy.random.Generator or a "
        f"numpy.random.SeedSequence; got {type(rng).__name__}."
    )


def replicate_seed(root: np.random.SeedSequence, index: int) -> np.random.SeedSequence:
    """Seed sequence of replicate ``index``: the ``index``-th child of ``root``.

    Equal to ``root.spawn(index + 1)[index]`` on a fresh ``root``, but computed from the
    index alone (``root`` is not modified), so any worker can derive it.

    Parameters
    ----------
    root : numpy.random.SeedSequence
        Root sequence (see :func:`root_seed_sequence`).
    index : int
        Replicate index, from 0.

    Returns
    -------
    numpy.random.SeedSequence

    Examples
    --------
    >>> root = np.random.SeedSequence(3)
    >>> replicate_seed(root, 2).spawn_key
    (2,)
    """
    return np.random.SeedSequence(
        root.entropy, spawn_key=(*root.spawn_key, int(index)), pool_size=root.pool_size
    )


def _run_batch(
    func: Callable[[np.random.Generator], Any], root: np.random.SeedSequence, start: int, stop: int
) -> list[Any]:
    """Replicates ``start`` to ``stop - 1`` with one BLAS thread (see :func:`blas_single_thread`)."""
    with blas_single_thread():
        return [func(np.random.default_rng(replicate_seed(root, i))) for i in range(start, stop)]


def blas_single_thread() -> Any:
    """Context manager limiting BLAS/OpenMP pools of this process to one thread.

    Replicates are many small matrix problems: with a multi-threaded BLAS each product
    is split across cores that the other workers (or other processes) also use, and the
    synchronisation costs more than the arithmetic (a serial power simulation ran five
    times slower with two BLAS threads than with one on a loaded 2-core machine).
    Parallelism comes from the replicate workers instead. Uses ``threadpoolctl``; the
    controller (the list of loaded BLAS libraries) is built once per process, so entering
    costs microseconds, not milliseconds, and the batched small-matrix paths of the
    models use it too.
    """
    return _blas_controller().limit(limits=1)


@functools.lru_cache(maxsize=1)
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _cgroup_cpu_limit() -> float | None:
    """CPUs allowed by the cgroup (v2 ``cpu.max`` or v1 quota/period), None if unlimited."""
    candidates = (
        ("/sys/fs/cgroup/cpu.max", None),
        ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us"),
    )
    for quota_file, period_file in candidates:
        try:
            with open(quota_file, encoding="ascii") as fh:
                fields = fh.read().split()
            if period_file is not None:
                with open(period_file, encoding="ascii") as fh:
                    fields = [fields[0], fh.read().strip()]
        except (OSError, IndexError):
            continue
        if not fields or fields[0] in ("max", "-1"):
            return None
        try:
            quota, period = float(fields[0]), float(fields[1])
        except (ValueError, IndexError):
            return None
        return quota / period if quota > 0 and period > 0 else None
    return None


def available_cores() -> int:
    """Cores this process may actually use: CPU affinity and cgroup CPU quota.

    ``os.cpu_count()`` counts the machine's cores; a container or batch job is often
    given fewer (``os.sched_getaffinity``, the cgroup ``cpu.max`` quota). Negative
    ``n_jobs`` count back from this number.

    Examples
    --------
    >>> available_cores() >= 1
    True
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    quota = _cgroup_cpu_limit()
    if quota is not None:
        cores = min(cores, max(1, math.floor(quota)))
    return max(1, cores)


def _check_client(client: Any) -> None:
    if not (callable(getattr(client, "map", None)) and callable(getattr(client, "gather", None))):
        raise ArgumentTypeError(
            "`client` must be a dask.distributed.Client (an object with .map and .gather); "
            f"got {type(client).__name__}."
        )


def _check_n_jobs(n_jobs: Any) -> int:
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or int(n_jobs) == 0:
        raise ArgumentTypeError(
            "`n_jobs` must be a non-zero integer (1 = serial, k > 1 = k worker processes, "
            f"-1 = every core); got {n_jobs!r}."
        )
    return int(n_jobs)


def n_workers(n_jobs: int = 1, client: Any = None) -> int:
    """Number of workers that :func:`run_replicates` would use.

    Parameters
    ----------
    n_jobs : int
        As in :func:`run_replicates`: ``k > 0`` workers as given; negative values count
        back from :func:`available_cores` (``-1``: all of them, ``-2``: all but one).
    client : dask.distributed.Client, optional
        When given, the total number of worker threads of the cluster.

    Returns
    -------
    int

    Examples
    --------
    >>> n_workers(1)
    1
    """
    if client is not None:
        _check_client(client)
        nthreads = client.nthreads() if callable(getattr(client, "nthreads", None)) else {}
        return max(1, int(sum(nthreads.values())))
    n_jobs = _check_n_jobs(n_jobs)
    if n_jobs > 0:
        return n_jobs
    return max(1, available_cores() + 1 + n_jobs)


def _batches(start: int, stop: int, batch_size: int) -> list[tuple[int, int]]:
    return [(s, min(s + batch_size, stop)) for s in range(start, stop, batch_size)]


def run_ranges(
    tasks: Sequence[tuple[Callable[[np.random.Generator], Any], np.random.SeedSequence, int, int]],
    *,
    n_jobs: int = 1,
    client: Any = None,
    batch_size: int | None = None,
) -> list[list[Any]]:
    """Several replicate ranges ``(func, root, start, stop)`` in one parallel pass.

    All batches of all ranges go to the workers together (no barrier between ranges);
    results come back per range, in replicate order. Arguments are as validated by
    :func:`run_replicates`.
    """
    workers = n_workers(n_jobs, client)
    total = sum(max(0, stop - start) for _, _, start, stop in tasks)
    if total == 0:
        return [[] for _ in tasks]
    if client is None and workers == 1:
        return [_run_batch(func, root, start, stop) for func, root, start, stop in tasks]
    if batch_size is None:
        batch_size = max(1, math.ceil(total / (_BATCHES_PER_WORKER * workers)))
    jobs = [
        (t, func, root, s, e)
        for t, (func, root, start, stop) in enumerate(tasks)
        for s, e in _batches(start, stop, batch_size)
    ]
    if client is not None:
        futures = client.map(
            _run_batch,
            [j[1] for j in jobs],
            [j[2] for j in jobs],
            [j[3] for j in jobs],
            [j[4] for j in jobs],
            pure=False,
        )
        parts: Sequence[list[Any]] = client.gather(futures)
    else:
        from joblib import Parallel, delayed

        parts = Parallel(n_jobs=workers, backend="loky")(
            delayed(_run_batch)(func, root, s, e) for _, func, root, s, e in jobs
        )
    out: list[list[Any]] = [[] for _ in tasks]
    for job, part in zip(jobs, parts):
        out[job[0]].extend(part)
    return out


def run_range(
    func: Callable[[np.random.Generator], T],
    root: np.random.SeedSequence,
    start: int,
    stop: int,
    *,
    n_jobs: int = 1,
    client: Any = None,
    batch_size: int | None = None,
) -> list[T]:
    """Replicates ``start`` to ``stop - 1`` of ``root`` (see :func:`run_ranges`)."""
    return run_ranges(
        [(func, root, start, stop)], n_jobs=n_jobs, client=client, batch_size=batch_size
    )[0]


@renamed(n="n_sims")
def run_replicates(
    func: Callable[[np.random.Generator], T],
    n_sims: int,
    *,
    rng: RNGLike = None,
    n_jobs: int = 1,
    client: Any = None,
    batch_size: int | None = None,
) -> list[T]:
    """Call ``func(generator)`` for ``n_sims`` replicates, each with an independent random stream.

    Parameters
    ----------
    func : callable
        Takes a :class:`numpy.random.Generator` and returns one replicate's result. It must
        draw all its randomness from that generator. For ``n_jobs != 1`` or ``client`` it
        is pickled (cloudpickle), so closures and lambdas work; results must be picklable.
    n_sims : int
        Number of replicates (at least 1).
    rng : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Root of the random streams (keyword-only); see :func:`root_seed_sequence`.
    n_jobs : int
        1 runs in this process; ``k > 1`` on ``k`` joblib worker processes (loky backend);
        -1 on every core available to this process (:func:`available_cores`: CPU affinity
        and cgroup quota). Ignored when ``client`` is given. Every batch of replicates runs
        with one BLAS thread (:func:`blas_single_thread`).
    client : dask.distributed.Client, optional
        Run the batches on this Dask cluster (``client.map`` then ``client.gather``).
    batch_size : int, optional
        Replicates per task sent to a worker; by default the replicates are split into
        about four batches per worker. Does not change the results.

    Returns
    -------
    list
        ``n_sims`` results, in replicate order.

    Raises
    ------
    ArgumentTypeError
        ``func`` is not callable, ``n_sims``, ``n_jobs`` or ``batch_size`` is not an integer,
        ``rng`` or ``client`` is of the wrong type.
    DataValidationError
        ``n_sims`` or ``batch_size`` is smaller than 1.

    Notes
    -----
    Replicate ``i`` uses ``numpy.random.default_rng(SeedSequence(entropy,
    spawn_key=root_key + (i,)))``, the ``i``-th child that ``SeedSequence.spawn`` would give.
    The stream is a function of the root seed and ``i`` only, so serial, joblib and Dask
    runs return bit-identical results, whatever the number of workers or the batch size;
    children of one root are statistically independent (O'Neill's PCG seeding scheme used
    by ``SeedSequence``). Work is sent to workers in batches to amortise the cost of
    starting a task (milliseconds for joblib, more for a remote cluster).

    References
    ----------
    NumPy developers. *Parallel random number generation*.
    https://numpy.org/doc/stable/reference/random/parallel.html

    Examples
    --------
    >>> draws = run_replicates(lambda g: int(g.integers(100)), 5, rng=7)
    >>> draws == run_replicates(lambda g: int(g.integers(100)), 5, rng=7, n_jobs=1)
    True
    >>> len(draws)
    5
    """
    if not callable(func):
        raise ArgumentTypeError(f"`func` must be callable; got {type(func).__name__}.")
    if isinstance(n_sims, bool) or not isinstance(n_sims, numbers.Integral):
        raise ArgumentTypeError(f"`n_sims` must be an integer >= 1; got {n_sims!r}.")
    if int(n_sims) < 1:
        raise DataValidationError(f"`n_sims` must be an integer >= 1; got {n_sims}.")
    if batch_size is not None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
            raise ArgumentTypeError(f"`batch_size` must be an integer >= 1; got {batch_size!r}.")
        if int(batch_size) < 1:
            raise DataValidationError(f"`batch_size` must be an integer >= 1; got {batch_size}.")
        batch_size = int(batch_size)
    if client is not None:
        _check_client(client)
    else:
        _check_n_jobs(n_jobs)
    root = root_seed_sequence(rng)
    return run_range(
        func, root, 0, int(n_sims), n_jobs=n_jobs, client=client, batch_size=batch_size
    )
