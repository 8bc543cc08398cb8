"""Bootstrap resample counts drawn in fixed blocks, serially or on several threads.

A bootstrap of ``n_boot`` resamples of ``n`` units is cut into blocks of
:func:`block_size` resamples. Block ``j`` draws its unit indices from its own generator,
seeded by ``SeedSequence(entropy, spawn_key=(j,))`` where ``entropy`` is drawn once from
the caller's generator, so the counts of every resample depend only on the caller's
generator, ``n`` and ``n_boot``: not on the chunk size, nor on the number of threads, nor
on which thread drew which block.

* :func:`iter_bootstrap_counts` yields the counts chunk by chunk in one thread.
* :func:`map_bootstrap_counts` hands chunks of whole blocks to a function on several
  threads (drawing, counting and matrix products release the GIL).

Examples
--------
>>> import numpy as np
>>> chunks = list(iter_bootstrap_counts(10, 7, np.random.default_rng(0), chunk_size=3))
>>> [c.shape for c in chunks], np.concatenate(chunks).sum(axis=1).tolist()[:2]
([(7, 10)], [10.0, 10.0])
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import numpy as np

from ..._validation import check_positive_int
from ...parallel import available_cores

__all__ = [
    "block_size",
    "block_generator",
    "fill_block",
    "iter_bootstrap_counts",
    "map_bootstrap_counts",
    "count_threads",
]

# Indices drawn per block (whole resamples): about 128 K, so a block's indices (256 KB as
# uint16) stay in cache while they are counted. Part of the definition of the stream.
_COUNT_BLOCK = 1 << 17
# Counts added per np.add.at: the float counts and offset indices stay in the L2 cache.
_TALLY_BLOCK = 1 << 15
# Most threads used for counting and the products that consume the counts.
_MAX_THREADS = 2
# Guided chunks shrink to at most this fraction (1 / _GUIDED_SHARE) of the blocks left.
_GUIDED_SHARE = 4


def block_size(n: int) -> int:
    """Resamples per block of the stream (at least one)."""
    return max(1, _COUNT_BLOCK // n)


def _entropy(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 2**32, size=4, dtype=np.uint64)


def block_generator(entropy: np.ndarray, j: int) -> np.random.Generator:
    """The generator of block ``j`` for the stream seeded by ``entropy``."""
    seq = np.random.SeedSequence([int(e) for e in entropy], spawn_key=(j,))
    return np.random.Generator(np.random.PCG64(seq))


def fill_block(out: np.ndarray, n: int, gen: np.random.Generator) -> None:
    """Draw ``out.shape[0]`` resamples of ``n`` units and write their counts into ``out``.

    Indices are drawn as uint16 when ``n`` fits (fewer random bits and bytes to move),
    offset by ``n`` per resample and added into the float counts with ``np.add.at`` in
    cache-sized pieces (three times faster than ``bincount`` and its conversion to float).
    ``out`` must be C-contiguous.
    """
    if not out.flags.c_contiguous:  # internal invariant: counts are added in place
        raise RuntimeError("bootstrap count rows must be C-contiguous")
    m = out.shape[0]
    dtype = np.uint16 if n <= 1 << 16 else np.int64
    idx = gen.integers(0, n, size=(m, n), dtype=dtype)
    tally = max(1, min(m, _TALLY_BLOCK // n))
    offsets = np.arange(tally, dtype=np.intp)[:, None] * n
    work = np.empty((tally, n), dtype=np.intp)
    out[...] = 0.0
    flat = out.reshape(-1)
    for r in range(0, m, tally):
        q = min(tally, m - r)
        sub = work[:q]
        np.add(idx[r : r + q], offsets[:q] + r * n, out=sub, casting="unsafe")
        np.add.at(flat, sub.reshape(-1), 1.0)


def _chunks(
    n: int, n_boot: int, chunk_size: int | None, guided: bool = False
) -> list[tuple[int, int]]:
    """(start, stop) resample ranges made of whole blocks, about ``chunk_size`` each.

    ``guided=True`` (for :func:`map_bootstrap_counts`) shrinks the chunks towards the
    end, to at most a quarter of the blocks still to hand out, so that two threads finish
    together instead of one working alone on a last full chunk. The chunks do not depend
    on the number of threads: the products that consume them, and so every result, are
    the same on one thread as on several.
    """
    block = block_size(n)
    if chunk_size is None:
        chunk_size = max(1, (8 << 20) // n)
    per = max(1, -(-max(chunk_size, 1) // block))
    left = -(-n_boot // block)
    out = []
    start = 0
    while left > 0:
        take = max(1, min(per, -(-left // _GUIDED_SHARE))) if guided else per
        out.append((start * block, min((start + take) * block, n_boot)))
        start += take
        left -= take
    return out


def _fill_chunk(out: np.ndarray, start: int, n: int, entropy: np.ndarray) -> None:
    block = block_size(n)
    for s in range(0, out.shape[0], block):
        rows = out[s : s + block]
        fill_block(rows, n, block_generator(entropy, (start + s) // block))


def iter_bootstrap_counts(
    n: int,
    n_boot: int,
    rng: np.random.Generator,
    chunk_size: int | None = None,
    *,
    reuse: bool = False,
) -> Iterator[np.ndarray]:
    """Yield bootstrap count matrices in chunks of rows.

    Parameters
    ----------
    n : int
        Number of units (rows, or clusters for a cluster bootstrap).
    n_boot : int
        Total number of resamples.
    rng : numpy.random.Generator
        Source of randomness (four 32-bit words are drawn from it to seed the stream).
    chunk_size : int, optional
        Resamples per chunk, rounded up to whole blocks; by default about eight million
        counts per chunk.
    reuse : bool
        Fill one buffer and yield views of it (each chunk overwrites the previous one, so
        use a chunk before asking for the next).

    Yields
    ------
    numpy.ndarray
        Float ``(chunk, n)`` array; entry ``[b, i]`` is how many times unit ``i``
        is drawn in resample ``b`` (each row sums to ``n``).

    Notes
    -----
    Each resample draws ``n`` unit indices uniformly with replacement, i.e. the counts are
    multinomial(n, 1/n). Resamples come in blocks of :func:`block_size` ``(n)``, block
    ``j`` drawn by :func:`block_generator` ``(entropy, j)``; the stream depends only on
    ``rng``, ``n`` and ``n_boot``, not on ``chunk_size`` or on threads
    (:func:`map_bootstrap_counts` gives the same counts).
    """
    n = check_positive_int(n, "n")
    n_boot = check_positive_int(n_boot, "n_boot")
    entropy = _entropy(rng)
    buffer = None
    for start, stop in _chunks(n, n_boot, chunk_size):
        size = stop - start
        if not reuse:
            out = np.empty((size, n))
        else:
            if buffer is None or buffer.shape[0] < size:
                buffer = np.empty((size, n))
            out = buffer[:size]
        _fill_chunk(out, start, n, entropy)
        yield out


def count_threads(n_threads: int | None = None) -> int:
    """Threads for :func:`map_bootstrap_counts`: at most two, no more than the cores."""
    if n_threads is None:
        return min(_MAX_THREADS, available_cores())
    return check_positive_int(n_threads, "n_threads")


def map_bootstrap_counts(
    n: int,
    n_boot: int,
    rng: np.random.Generator,
    consume: Callable[[int, np.ndarray], None],
    *,
    chunk_size: int | None = None,
    n_threads: int | None = None,
) -> None:
    """Call ``consume(start, counts)`` for every chunk of the stream, on several threads.

    Parameters
    ----------
    n, n_boot, rng, chunk_size
        As for :func:`iter_bootstrap_counts` (the same counts, chunk for chunk).
    consume : callable
        Receives the first resample number of a chunk and its ``(chunk, n)`` float counts
        (a buffer reused by the thread, so copy what must outlive the call). It runs on
        the calling thread and on ``n_threads - 1`` worker threads: it must only write to
        rows ``start:start + len(counts)`` of shared outputs, and it gains from threads
        only where it releases the GIL (numpy products and batched solves do). Limit
        BLAS to one thread around the call.
    n_threads : int, optional
        Worker threads; by default :func:`count_threads` (two on a machine with two or
        more available cores). The result does not depend on it.

    Raises
    ------
    Exception
        The first exception raised by ``consume`` (the other threads stop taking chunks
        and finish first).
    """
    n = check_positive_int(n, "n")
    n_boot = check_positive_int(n_boot, "n_boot")
    threads = count_threads(n_threads)
    entropy = _entropy(rng)
    chunks = _chunks(n, n_boot, chunk_size, guided=True)
    size = max(stop - start for start, stop in chunks)

    pending = iter(chunks)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        # chunks are taken in turn by whichever thread is free; each chunk's counts are
        # fixed by its blocks' seeds, so the order of pick-up does not matter
        buffer = np.empty((size, n))
        while True:
            with lock:
                chunk = None if errors else next(pending, None)
            if chunk is None:
                return
            start, stop = chunk
            out = buffer[: stop - start]
            try:
                _fill_chunk(out, start, n, entropy)
                consume(start, out)
            except BaseException as exc:  # handed to the calling thread below
                with lock:
                    errors.append(exc)
                return

    # the calling thread works too: threads - 1 workers, started without a pool
    workers = [threading.Thread(target=work) for _ in range(min(threads, len(chunks)) - 1)]
    for worker in workers:
        worker.start()
    work()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]
