"""Random number generator handling (Scientific Python SPEC 7)."""

from __future__ import annotations

import numbers

import numpy as np

from .errors import ArgumentTypeError

__all__ = ["check_rng", "spawn_rngs", "RNGLike"]

RNGLike = int | np.random.Generator | np.random.SeedSequence | None


def check_rng(rng: RNGLike = None, argument: str = "rng") -> np.random.Generator:
    """Turn ``rng`` into a :class:`numpy.random.Generator`.

    Parameters
    ----------
    rng : int, numpy.random.Generator, numpy.random.SeedSequence or None
        A seed, an existing generator (returned unchanged) or ``None`` for fresh
        operating-system entropy.
    argument : str
        Name used in error messages.

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    ArgumentTypeError
        If ``rng`` is of another type (for example the legacy ``RandomState``).

    Examples
    --------
    >>> g = check_rng(42)
    >>> check_rng(g) is g
    True
    >>> check_rng(42).random() == np.random.default_rng(42).random()
    True
    """
    if rng is None or isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if int(rng) < 0:
            raise ArgumentTypeError(f"`{argument}` must be a non-negative integer seed; got {rng}.")
        return np.random.default_rng(int(rng))
    raise ArgumentTypeError(
        f"`{argument}` must be None, a non-negative int or a numpy.random.Generator; "
        f"got {type(rng).__name__}."
    )


def seed_of(rng: RNGLike) -> int | None:
    """Return the integer seed if ``rng`` was given as one, else ``None`` (for ``glance()``).

    Examples
    --------
    >>> seed_of(7), seed_of(None)
    (7, None)
    """
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return int(rng)
    return None


def spawn_rngs(rng: np.random.Generator, n: int) -> list[np.random.Generator]:
    """Return ``n`` independent child generators of ``rng``.

    Results of parallel work then do not depend on the number of workers.

    Examples
    --------
    >>> kids = spawn_rngs(check_rng(1), 3)
    >>> len(kids)
    3
    """
    return list(rng.spawn(n))
