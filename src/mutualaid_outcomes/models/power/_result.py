"""The result of a power simulation: rejection counts per sample size and effect."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ...errors import ColumnNotFoundError, DataValidationError
from ...results import TIDY_COLUMNS, BaseResult, glance_frame

__all__ = ["PowerResult", "POWER_GLANCE_COLUMNS"]

#: Columns of :meth:`PowerResult.glance` (fixed for the power family).
POWER_GLANCE_COLUMNS: tuple[str, ...] = (
    "n_grid",
    "n_sims",
    "n_failed",
    "alpha",
    "test",
    "method",
    "seed",
    "elapsed",
    "backend",
    "n_workers",
    "max_mcse",
)


def _wilson(k: np.ndarray, n: int, conf_level: float) -> tuple[np.ndarray, np.ndarray]:
    z = stats.norm.ppf(0.5 + conf_level / 2)
    p = k / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z / denom * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


@dataclass(frozen=True, eq=False)
class PowerResult(BaseResult):
    """Result of :func:`power_mediation` and :func:`power_survival`.

    Attributes
    ----------
    effects : tuple of str
        The tested effects (``indirect[m]`` ..., or ``log_hr``).
    n_grid : tuple of int
        Sample sizes simulated.
    rejections : numpy.ndarray
        ``(len(n_grid), len(effects))`` counts of replicates that rejected the null.
    n_sims : int
        Replicates per sample size.
    grid_info : pandas.DataFrame
        One row per sample size: ``n``, ``n_failed`` (replicates whose analysis failed;
        counted as non-rejections) and design-specific averages (``mean_n_used`` rows
        analysed, ``mean_events``).
    """

    effects: tuple[str, ...]
    n_grid: tuple[int, ...]
    rejections: np.ndarray
    n_sims: int
    grid_info: pd.DataFrame
    alpha: float
    test: str
    method: str
    seed: int | None
    elapsed: float
    backend: str
    n_workers: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    _can_exponentiate = False

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        rows = []
        for g, n in enumerate(self.n_grid):
            k = self.rejections[g].astype(float)
            p = k / self.n_sims
            low, high = _wilson(k, self.n_sims, conf_level)
            for t, term in enumerate(self.effects):
                rows.append(
                    {
                        "term": term,
                        "estimate": p[t],
                        "std_error": math.sqrt(p[t] * (1 - p[t]) / self.n_sims),
                        "statistic": np.nan,
                        "p_value": np.nan,
                        "conf_low": low[t],
                        "conf_high": high[t],
                        "n": n,
                        "n_sims": self.n_sims,
                    }
                )
        out = pd.DataFrame(rows, columns=[*TIDY_COLUMNS, "n", "n_sims"])
        info = self.grid_info.drop(columns="n")
        extra = pd.DataFrame(
            np.repeat(info.to_numpy(dtype=float), len(self.effects), axis=0), columns=info.columns
        )
        return pd.concat([out, extra], axis=1)

    def glance(self) -> pd.DataFrame:
        """One row: ``n_grid, n_sims, n_failed, alpha, test, method, seed, elapsed,
        backend, n_workers, max_mcse``.
        """  # noqa: D205
        p = self.rejections / self.n_sims
        return glance_frame(
            {
                "n_grid": len(self.n_grid),
                "n_sims": self.n_sims,
                "n_failed": int(self.grid_info["n_failed"].sum()),
                "alpha": self.alpha,
                "test": self.test,
                "method": self.method,
                "seed": np.nan if self.seed is None else self.seed,
                "elapsed": self.elapsed,
                "backend": self.backend,
                "n_workers": self.n_workers,
                "max_mcse": float(np.sqrt(p * (1 - p) / self.n_sims).max()),
            },
            POWER_GLANCE_COLUMNS,
        )

    @property
    def power(self) -> pd.DataFrame:
        """Estimated power, one row per sample size, one column per term."""
        return pd.DataFrame(
            self.rejections / self.n_sims,
            index=pd.Index(self.n_grid, name="n"),
            columns=list(self.effects),
        )

    def smallest_n(self, target: float = 0.8, term: str | None = None) -> int | None:
        """Smallest simulated sample size whose estimated power reaches ``target``.

        Parameters
        ----------
        target : float
            Power wanted, in (0, 1).
        term : str, optional
            The effect; defaults to the first (the only one for single-effect designs).

        Returns
        -------
        int or None
            ``None`` when no size of the grid reaches ``target``.
        """
        if not isinstance(target, numbers.Real) or not 0 < float(target) < 1:
            raise DataValidationError(f"`target` must be a number in (0, 1); got {target!r}.")
        term = self.effects[0] if term is None else term
        if term not in self.effects:
            raise ColumnNotFoundError(f"`term` must be one of {list(self.effects)}; got {term!r}.")
        col = self.power[term]
        hit = col[col >= target]
        return int(hit.index[0]) if len(hit) else None

    def _title(self) -> str:
        return f"Power by simulation ({self.method})"

    def _notes(self) -> list[str]:
        return list(self.notes)
