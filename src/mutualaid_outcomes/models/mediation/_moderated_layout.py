"""Moderator coding, ``at`` values and the effect layout of moderated mediation.

:func:`code_moderator` turns the moderator column into ``q`` model columns (itself, or
``L - 1`` treatment indicators of a categorical moderator), :func:`parse_paths` reads
``moderated_paths``, :func:`resolve_at` the moderator values at which conditional effects
are shown, and :class:`Layout` maps path coefficients (``(m, n_paths)``, centred
parameterisation of :mod:`._moderated_engine`) to the named rows of ``tidy()``.
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...errors import DataValidationError, DataWarning, OptionError, SmallSampleWarning
from ._moderated_engine import ModSpec

__all__ = ["Coding", "Layout", "code_moderator", "parse_paths", "resolve_at", "SMALL_LEVEL"]

#: Fewest rows per moderator level before a warning when ``min_cell`` is not given.
SMALL_LEVEL = 5

_PATH = re.compile(r"^(?P<kind>[abc])(?:\[(?P<med>.+)\])?$")


@dataclass(frozen=True)
class Coding:
    """How the moderator enters the model."""

    name: str
    kind: str  # "continuous", "binary" or "categorical"
    levels: tuple[Any, ...] | None  # categorical levels, reference first
    mean: float
    sd: float
    low: float
    high: float
    observed: tuple[float, ...]  # distinct values of a binary moderator

    @property
    def q(self) -> int:
        return 1 if self.levels is None else len(self.levels) - 1


def code_moderator(
    col: pd.Series, name: str, others: dict[str, pd.Series], min_cell: int | None
) -> tuple[np.ndarray, Coding]:
    """``(n, q)`` moderator columns and their :class:`Coding`; checks and warnings.

    ``others`` maps the exposure and mediator roles to their columns (a moderator equal
    to one of them is an error).
    """
    categorical = isinstance(col.dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)
    )
    counts = col.value_counts(sort=False)
    counts = counts[counts > 0]
    if len(counts) < 2:
        raise DataValidationError(
            f"`moderator` '{name}' is constant after removing incomplete rows "
            f"(value {counts.index[0]!r}); a moderator needs at least two values."
        )
    if not categorical:
        w = col.to_numpy(dtype=float)
        for role, other in others.items():
            if np.array_equal(w, other.to_numpy(dtype=float)):
                raise DataValidationError(
                    f"`moderator` '{name}' has the same values as the {role} "
                    f"'{other.name}'; a variable cannot moderate its own effect. Use a "
                    "different moderator."
                )
        kind = "binary" if len(counts) == 2 else "continuous"
        obs = tuple(float(v) for v in np.unique(w)) if kind == "binary" else ()
        coding = Coding(
            name, kind, None, float(w.mean()), float(w.std(ddof=1)), float(w.min()),
            float(w.max()), obs,
        )  # fmt: skip
        mat = w[:, None]
    else:
        if isinstance(col.dtype, pd.CategoricalDtype):
            levels = [v for v in col.cat.categories if v in counts.index]
        else:
            levels = sorted(counts.index, key=str)
        mat = np.column_stack([(col == lev).to_numpy(dtype=float) for lev in levels[1:]])
        coding = Coding(name, "categorical", tuple(levels), np.nan, np.nan, np.nan, np.nan, ())
    if coding.kind != "continuous":
        threshold = SMALL_LEVEL if min_cell is None else min_cell
        small = {str(k): int(v) for k, v in counts.items() if v < threshold}
        if small:
            warnings.warn(
                f"`moderator` '{name}' has level(s) with fewer than {threshold} rows "
                f"(`min_cell`): {sorted(small)}; conditional effects there rest on very few "
                "people. Merge sparse levels.",
                SmallSampleWarning,
                stacklevel=4,
            )
    return mat, coding


def parse_paths(
    moderated_paths: Any, mediators: list[str]
) -> tuple[tuple[bool, ...], tuple[bool, ...], bool]:
    """``a_mod``, ``b_mod``, ``c_mod`` flags from ``moderated_paths``.

    ``"a"``/``"b"`` moderate the path of every mediator, ``"a[m]"``/``"b[m]"`` that of
    mediator ``m`` only; ``"c"`` is the direct effect.
    """
    values = [moderated_paths] if isinstance(moderated_paths, str) else moderated_paths
    try:
        values = list(values)
    except TypeError:
        values = None
    if not values or not all(isinstance(v, str) for v in values):
        raise OptionError(
            "`moderated_paths` must be a non-empty list of path names: 'a' (exposure -> "
            "mediators), 'b' (mediators -> outcome), 'c' (direct effect), or 'a[m]' / "
            f"'b[m]' for one mediator m of {mediators}; got {moderated_paths!r}."
        )
    k = len(mediators)
    a, b, c = [False] * k, [False] * k, False
    for v in values:
        m = _PATH.match(v.strip())
        med = m.group("med") if m else None
        if m is None or (med is not None and (med not in mediators or m.group("kind") == "c")):
            raise OptionError(
                f"`moderated_paths` names {v!r}, which is not a path of this model; valid: "
                f"'a', 'b', 'c', {', '.join(repr(f'a[{x}]') for x in mediators)}, "
                f"{', '.join(repr(f'b[{x}]') for x in mediators)}."
            )
        targets = range(k) if med is None else [mediators.index(med)]
        for j in targets:
            if m.group("kind") == "a":
                a[j] = True
            elif m.group("kind") == "b":
                b[j] = True
        c = c or m.group("kind") == "c"
    return tuple(a), tuple(b), c


def resolve_at(at: Any, coding: Coding, stacklevel: int = 4) -> list[Any]:
    """Moderator values for conditional effects (defaults as PROCESS)."""
    if coding.kind == "categorical":
        levels = list(coding.levels or ())
        if at is None:
            return levels
        values = [at] if isinstance(at, str) or np.ndim(at) == 0 else list(at)
        bad = [v for v in values if v not in levels and str(v) not in map(str, levels)]
        if bad or not values:
            raise DataValidationError(
                f"`at` must be levels of the categorical `moderator` '{coding.name}': "
                f"{levels}; got {bad or values}."
            )
        by_text = {str(lev): lev for lev in levels}
        return [v if v in levels else by_text[str(v)] for v in values]
    if at is None:
        if coding.kind == "binary":
            return list(coding.observed)
        return [coding.mean - coding.sd, coding.mean, coding.mean + coding.sd]
    try:
        vals = np.atleast_1d(np.asarray(at, dtype=float))
    except (TypeError, ValueError):
        raise DataValidationError(
            f"`at` must be numbers for the numeric `moderator` '{coding.name}'; got {at!r}."
        ) from None
    if vals.size == 0 or vals.ndim != 1 or not np.all(np.isfinite(vals)):
        raise DataValidationError(f"`at` must be one or more finite numbers; got {at!r}.")
    outside = [float(v) for v in vals if v < coding.low or v > coding.high]
    if outside:
        warnings.warn(
            f"`at` values {outside} are outside the observed range of `moderator` "
            f"'{coding.name}' [{coding.low:.6g}, {coding.high:.6g}]: extrapolation.",
            DataWarning,
            stacklevel=stacklevel,
        )
    return [float(v) for v in vals]


def _show(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, (float, np.floating)) else str(value)


@dataclass(frozen=True)
class Layout:
    """Names and values of the effect rows of a moderated mediation result."""

    spec: ModSpec
    coding: Coding
    center: np.ndarray  # sample mean of the q moderator columns (the engine's centring)
    base: np.ndarray  # moderator row at which lower-order paths are reported

    def rows(self, at: Sequence[Any]) -> np.ndarray:
        """Centred moderator rows ``(n_at, q)`` for moderator values ``at``."""
        if self.coding.levels is None:
            return np.asarray(at, dtype=float)[:, None] - self.center
        lev = list(self.coding.levels)
        u = np.zeros((len(at), self.coding.q))
        for r, v in enumerate(at):
            if lev.index(v) > 0:
                u[r, lev.index(v) - 1] = 1.0
        return u - self.center

    def _slope_names(self, stem: str) -> list[str]:
        w = self.coding.name
        if self.coding.levels is None:
            return [f"{stem}:{w}"]
        return [f"{stem}:{w}={_show(v)}" for v in self.coding.levels[1:]]

    def path_rows(self, paths: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Reported path coefficients (lower-order paths at ``base``) and their names."""
        spec, med = self.spec, self.spec.mediators
        parts = spec.split(paths)
        u0 = self.base - self.center
        names, cols = [], []
        stems = {"a": [f"a[{m}]" for m in med], "b": [f"b[{m}]" for m in med], "c": ["direct"]}
        flags = {"a": spec.a_mod, "b": spec.b_mod, "c": (spec.c_mod,)}
        for kind in ("a", "d", "b", "c"):
            if kind == "d":
                for p, (i, j) in enumerate(spec.d_pairs):
                    names.append(f"d[{med[i]}->{med[j]}]")
                    cols.append(parts[("d", p)][0])
                continue
            for j, stem in enumerate(stems[kind]):
                base, slope = parts[(kind, j)]
                names.append(stem)
                cols.append(base + slope @ u0)
                if flags[kind][j]:
                    names += self._slope_names(stem)
                    cols += [slope[:, col] for col in range(spec.q)]
        return names, np.column_stack(cols)

    def chain_name(self, chain: tuple[int, ...]) -> str:
        return "->".join(self.spec.mediators[i] for i in chain)

    def conditional_rows(
        self, paths: np.ndarray, at: Sequence[Any], contrasts: bool = True
    ) -> tuple[list[str], np.ndarray]:
        """Index, conditional indirect and direct effects, and contrasts across ``at``."""
        spec, w = self.spec, self.coding.name
        eff = spec.conditional(paths, self.rows(at))
        labels = [f"{w}={_show(v)}" for v in at]
        names: list[str] = []
        cols: list[np.ndarray] = []
        for c, chain in enumerate(spec.chains):
            inner = self.chain_name(chain)
            kind = spec.chain_kind(chain)
            if kind == "none":
                names.append(f"indirect[{inner}]")
                cols.append(eff["indirect"][:, c, 0])
                continue
            if kind == "linear":
                if self.coding.levels is None:
                    names.append(f"index[{inner}]")
                else:
                    names += [f"index[{inner}|{w}={_show(v)}]" for v in self.coding.levels[1:]]
                cols += [eff["index"][:, c, col] for col in range(spec.q)]
            names += [f"indirect[{inner}|{lab}]" for lab in labels]
            cols += [eff["indirect"][:, c, r] for r in range(len(at))]
            if contrasts:
                for r1, r2 in itertools.combinations(range(len(at)), 2):
                    names.append(f"contrast[{inner}|{labels[r2]} minus {labels[r1]}]")
                    cols.append(eff["indirect"][:, c, r2] - eff["indirect"][:, c, r1])
        if spec.c_mod:
            names += [f"direct[{lab}]" for lab in labels]
            cols += [eff["direct"][:, r] for r in range(len(at))]
        return names, np.column_stack(cols)

    def no_index_chains(self) -> list[str]:
        """Chains whose indirect effect is quadratic in the moderator (no single index)."""
        return [
            self.chain_name(c) for c in self.spec.chains if self.spec.chain_kind(c) == "quadratic"
        ]

    def effects(self, paths: np.ndarray, at: Sequence[Any]) -> tuple[list[str], np.ndarray]:
        """All ``tidy()`` rows: paths, then conditional rows."""
        n1, v1 = self.path_rows(paths)
        n2, v2 = self.conditional_rows(paths, at)
        return n1 + n2, np.column_stack([v1, v2])

    def wald_terms(self, names: list[str]) -> frozenset[str]:
        """Single coefficients and conditional direct effects (linear in the paths)."""
        return frozenset(n for n in names if re.match(r"^(a|b|d)\[[^|]*\]($|:)|^direct($|:|\[)", n))
