"""The result of :func:`~mutualaid_outcomes.models.trajectories.fit_trajectories`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from ..._validation import MissingReport, check_conf_level, check_option
from ...disclosure import check_min_cell, hidden_classes
from ...results import BaseResult, Summary, glance_frame, wald_table
from .diagnostics import class_table, relative_entropy
from .panel import Panel
from .params import Layout, Params, Spec

__all__ = ["TrajectoryResult", "TRAJECTORY_GLANCE_COLUMNS"]

TRAJECTORY_GLANCE_COLUMNS: tuple[str, ...] = (
    "family",
    "n_groups",
    "degree",
    "variance",
    "n",
    "n_obs",
    "n_dropped",
    "n_persons_dropped",
    "n_persons_short",
    "loglik",
    "df",
    "aic",
    "bic",
    "aic_traj",
    "bic_traj",
    "bic_traj_obs",
    "entropy",
    "smallest_class",
    "smallest_class_assigned",
    "min_avepp",
    "converged",
    "possibly_local",
    "n_starts",
    "n_starts_best",
    "n_starts_degenerate",
    "n_iter",
    "method",
    "seed",
    "message",
)


@dataclass(frozen=True, repr=False, eq=False)
class TrajectoryResult(BaseResult):
    """A fitted group-based trajectory model (immutable).

    Attributes
    ----------
    id, time, outcome : str
        Role columns.
    family : str
        Outcome family.
    n_groups : int
        Number of trajectory classes.
    degree : tuple of int
        Polynomial degree of each class.
    variance : str or None
        ``"common"`` or ``"group"`` residual SD (normal families).
    lower, upper : float or None
        Censoring bounds (``family='cnorm'``).
    covariates, tv_covariates : tuple of str
        Membership (time-stable) and trajectory (time-varying) covariates.
    params : pandas.Series
        Estimates on the reported scale: raw-time polynomial coefficients (R's
        ``poly(time, d, raw = TRUE)``), ``sigma`` on its own scale, zero-inflation and
        membership coefficients on the logit scale.
    covariance : pandas.DataFrame
        Their covariance, the inverse observed information (delta method for ``sigma``).
    loglik : float
        Maximised log-likelihood.
    posterior : pandas.DataFrame
        One row per person: the id, the modal ``class`` and ``prob_class1`` ... .
    shares : numpy.ndarray
        Estimated class shares (mean membership probability).
    starts : pandas.DataFrame
        Every random start: ``start, loglik, status, n_iter, best, message``; ``status``
        is ``"converged"``, ``"em_only"``, ``"max_iter"``, ``"degenerate"`` or
        ``"abandoned"`` (screened out after the first EM iterations).
    missing : MissingReport
        Rows used and excluded.
    """

    id: str
    time: str
    outcome: str
    family: str
    n_groups: int
    degree: tuple[int, ...]
    variance: str | None
    lower: float | None
    upper: float | None
    covariates: tuple[str, ...]
    tv_covariates: tuple[str, ...]
    params: pd.Series
    covariance: pd.DataFrame
    loglik: float
    posterior: pd.DataFrame
    shares: np.ndarray
    starts: pd.DataFrame
    missing: MissingReport
    n_persons_dropped: int
    n_persons_short: int
    converged: bool
    n_iter: int
    n_starts_best: int
    seed: int | None
    message: str
    _meta: pd.DataFrame = field(repr=False)  # class and part of each parameter
    _panel: Panel = field(repr=False)
    _spec: Spec = field(repr=False)
    _layout: Layout = field(repr=False)
    _internal: Params = field(repr=False)
    _cov_internal: np.ndarray = field(repr=False)
    _notes_: tuple[str, ...] = ()

    @property
    def _can_exponentiate(self) -> bool:  # type: ignore[override]
        return self.family in ("poisson", "zip", "logit")

    # -- coefficient protocol -----------------------------------------------------
    @property
    def terms(self) -> tuple[str, ...]:
        """Parameter names, in model order."""
        return tuple(self.params.index)

    def coef(self) -> pd.Series:
        """Estimates indexed by term."""
        return self.params.copy()

    def vcov(self) -> pd.DataFrame:
        """Covariance of the estimates (inverse observed information)."""
        return self.covariance.copy()

    @property
    def nobs(self) -> int:
        """Observations (person-waves) used."""
        return self._panel.n_obs

    @property
    def df_resid(self) -> None:
        """``None``: inference is large-sample (z)."""
        return None

    @property
    def n(self) -> int:
        """Persons in the fit."""
        return self._panel.n_persons

    @property
    def df(self) -> int:
        """Number of estimated parameters."""
        return len(self.params)

    # -- contract -----------------------------------------------------------------
    def _tidy(self, conf_level: float) -> pd.DataFrame:
        se = np.sqrt(np.diag(self.covariance.to_numpy()))
        out = wald_table(self.params.index, self.params.to_numpy(), se, conf_level)
        out["class"] = self._meta["class"].array
        out["part"] = self._meta["part"].to_numpy()
        return out

    def glance(self) -> pd.DataFrame:
        """One-row summary with the fixed trajectory-model columns.

        ``aic``/``bic`` are ``-2 loglik + 2 df`` and ``-2 loglik + df log(n)`` with ``n`` the
        number of persons; ``aic_traj``, ``bic_traj`` and ``bic_traj_obs`` follow PROC TRAJ
        (larger is better): ``loglik - df`` and ``loglik - df log(N) / 2`` with ``N`` the
        persons or the observations. ``possibly_local`` is true when several starts were
        run and fewer than two reached the best log-likelihood (a one-class model is fitted
        from one start).
        """
        tab = self.class_table()
        ll, k, n, n_obs = self.loglik, self.df, self.n, self.nobs
        values = {
            "family": self.family,
            "n_groups": self.n_groups,
            "degree": ",".join(str(d) for d in self.degree),
            "variance": self.variance if self.variance is not None else np.nan,
            "n": n,
            "n_obs": n_obs,
            "n_dropped": self.missing.n_dropped,
            "n_persons_dropped": self.n_persons_dropped,
            "n_persons_short": self.n_persons_short,
            "loglik": ll,
            "df": k,
            "aic": -2 * ll + 2 * k,
            "bic": -2 * ll + k * np.log(n),
            "aic_traj": ll - k,
            "bic_traj": ll - 0.5 * k * np.log(n),
            "bic_traj_obs": ll - 0.5 * k * np.log(n_obs),
            "entropy": relative_entropy(self._tau()),
            "smallest_class": float(tab["share"].min()),
            "smallest_class_assigned": float(tab["share_assigned"].min()),
            "min_avepp": float(tab["avepp"].min()),
            "converged": bool(self.converged),
            "possibly_local": bool(len(self.starts) > 1 and self.n_starts_best < 2),
            "n_starts": len(self.starts),
            "n_starts_best": self.n_starts_best,
            "n_starts_degenerate": int((self.starts["status"] == "degenerate").sum()),
            "n_iter": self.n_iter,
            "method": "EM + Newton (observed information)",
            "seed": self.seed if self.seed is not None else np.nan,
            "message": self.message,
        }
        return glance_frame(values, TRAJECTORY_GLANCE_COLUMNS)

    def summary(self, conf_level: float = 0.95, exponentiate: bool = False) -> Summary:
        """A :class:`~mutualaid_outcomes.results.Summary` (text, HTML, LaTeX)."""
        out = super().summary(conf_level=conf_level, exponentiate=exponentiate)
        cls = out.tidy["class"].astype(object)
        out.tidy["class"] = cls.where(out.tidy["class"].notna(), None)  # blank, not <NA>
        return out

    def _title(self) -> str:
        deg = ",".join(str(d) for d in self.degree)
        return (
            f"Group-based trajectory model ({self._spec.family.label}, {self.n_groups} "
            f"classes, degree {deg})"
        )

    def _notes(self, min_cell: int | None = None) -> list[str]:
        tab = self.class_table(min_cell=min_cell)
        shares = "; ".join(
            f"class {r.class_}: {r.share:.1%} (assigned {r.share_assigned:.1%}, "
            f"AvePP {r.avepp:.2f})"
            if pd.notna(r.n_assigned)
            else f"class {r.class_}: size suppressed"
            for r in tab.rename(columns={"class": "class_"}).itertuples()
        )
        n_st = len(self.starts)
        notes = [
            self.missing.describe(),
            f"Classes: {shares}.",
            f"Best log-likelihood reached by {self.n_starts_best} of {n_st} starts.",
        ]
        if tab["n_assigned"].isna().any():
            notes.append(hidden_classes_note(tab, int(min_cell)))  # type: ignore[arg-type]
        return notes + list(self._notes_)

    def disclosed(self, min_cell: int | None) -> tuple[pd.DataFrame, list[str]]:
        """``glance()`` and the summary notes as a report under ``min_cell`` publishes them.

        The sizes of classes with fewer than ``min_cell`` assigned persons (and of the
        classes they could be recovered from, :func:`~mutualaid_outcomes.disclosure.
        hidden_classes`) are suppressed: their shares and AvePP leave the notes, and
        ``smallest_class``, ``smallest_class_assigned`` and ``min_avepp`` are NaN.
        """
        min_cell = check_min_cell(min_cell)
        glance = self.glance()
        tab = self.class_table(min_cell=min_cell)
        if tab["n_assigned"].isna().any():
            glance[["smallest_class", "smallest_class_assigned", "min_avepp"]] = np.nan
        return glance, self._notes(min_cell)

    # -- classification -----------------------------------------------------------
    def _tau(self) -> np.ndarray:
        cols = [f"prob_class{k}" for k in range(1, self.n_groups + 1)]
        return self.posterior[cols].to_numpy()

    def class_table(self, *, min_cell: int | None = None) -> pd.DataFrame:
        """Per class: ``class, share, share_assigned, n_assigned, avepp, occ``.

        ``share`` is the estimated share (mean membership probability), ``share_assigned``
        the share of persons whose modal class it is, ``avepp`` the average posterior
        probability of those persons and ``occ`` the odds of correct classification
        (Nagin 2005): AvePP above 0.7 and OCC above 5 indicate adequate classification.
        With ``min_cell`` (``docs/disclosure.md``), every value of a class with fewer than
        ``min_cell`` assigned persons, and of the class its size could be recovered from,
        is NaN (:func:`~mutualaid_outcomes.disclosure.hidden_classes`).
        """
        tab = class_table(self._tau(), self.shares)
        hide = hidden_classes(tab["n_assigned"], check_min_cell(min_cell))
        if hide.any():
            tab["n_assigned"] = tab["n_assigned"].astype(float)
            tab.loc[hide, ["share", "share_assigned", "n_assigned", "avepp", "occ"]] = np.nan
        return tab

    def assignments(self) -> pd.Series:
        """Modal class of each person, indexed by id."""
        return pd.Series(
            self.posterior["class"].to_numpy(),
            index=pd.Index(self.posterior[self.id].to_numpy(), name=self.id),
            name="class",
        )

    # -- fitted curves ------------------------------------------------------------
    def _link_quantity(self, k: int, X: np.ndarray, theta_k: np.ndarray) -> np.ndarray:
        """The scale on which curve intervals are built (see :meth:`predict`)."""
        spec, lay = self._spec, self._layout
        v = lay.valid[k]
        local = np.zeros(lay.m)
        local[v] = theta_k
        beta, anc = local[: lay.p], (local[lay.p] if lay.has_anc else 0.0)
        eta = X @ beta
        name = spec.family.name
        if name == "zip":
            return eta - np.logaddexp(0.0, anc)
        if name == "cnorm":
            return spec.family.mean(eta[:, None], np.array([anc]), spec.lower, spec.upper)[:, 0]
        return eta

    def _inverse(self, h: np.ndarray) -> np.ndarray:
        name = self.family
        if name in ("poisson", "zip"):
            return np.exp(h)
        if name == "logit":
            return special.expit(h)
        return h

    def predict(
        self, times: Any = None, *, conf_level: float = 0.95, n_points: int = 50
    ) -> pd.DataFrame:
        """Estimated mean trajectory of each class with pointwise confidence intervals.

        Parameters
        ----------
        times : array-like, optional
            Times at which to evaluate the curves; by default ``n_points`` equally spaced
            values over the observed range.
        conf_level : float
            Confidence level of the intervals.
        n_points : int
            Number of default time points.

        Returns
        -------
        pandas.DataFrame
            Columns ``class, time, estimate, conf_low, conf_high`` (the expected outcome,
            zero inflation and censoring included; time-varying covariates at their mean).

        Notes
        -----
        Intervals are delta-method Wald intervals on the linear-predictor scale
        (``log`` of the mean for ``poisson`` and ``zip``, logit for ``logit``) transformed
        back, and on the outcome scale for the normal families.
        """
        conf_level = check_conf_level(conf_level)
        panel = self._panel
        if times is None:
            t = np.linspace(panel.time.min(), panel.time.max(), int(n_points))
        else:
            t = np.asarray(times, dtype=float).ravel()
        X = panel.design(t)
        theta = self._layout.pack(self._internal)
        q = stats.norm.ppf(0.5 + conf_level / 2)
        rows = []
        for k in range(self.n_groups):
            idx = self._layout.gidx[k][self._layout.valid[k]]
            th = theta[idx]
            V = self._cov_internal[np.ix_(idx, idx)]
            h = self._link_quantity(k, X, th)
            G = np.empty((len(t), len(th)))
            for j in range(len(th)):
                e = np.zeros(len(th))
                e[j] = 1e-6 * max(1.0, abs(th[j]))
                G[:, j] = (
                    self._link_quantity(k, X, th + e) - self._link_quantity(k, X, th - e)
                ) / (2 * e[j])
            se = np.sqrt(np.maximum(np.einsum("tp,pq,tq->t", G, V, G), 0.0))
            rows.append(
                pd.DataFrame(
                    {
                        "class": k + 1,
                        "time": t,
                        "estimate": self._inverse(h),
                        "conf_low": self._inverse(h - q * se),
                        "conf_high": self._inverse(h + q * se),
                    }
                )
            )
        return pd.concat(rows, ignore_index=True)

    def observed_means(self, *, weighting: str = "modal") -> pd.DataFrame:
        """Observed mean outcome of each class at each observed time.

        Parameters
        ----------
        weighting : {"modal", "posterior"}
            Persons counted in their modal class, or in every class with weight equal to
            their posterior probability.

        Returns
        -------
        pandas.DataFrame
            Columns ``class, time, n, mean`` (``n`` the persons, or the summed weights).
        """
        check_option(weighting, ("modal", "posterior"), "weighting")
        panel = self._panel
        tau = self._tau()
        if weighting == "modal":
            W = np.zeros_like(tau)
            W[np.arange(len(tau)), np.argmax(tau, axis=1)] = 1.0
        else:
            W = tau
        w = W[panel.person]
        times, inv = np.unique(panel.time, return_inverse=True)
        rows = []
        for k in range(self.n_groups):
            n_t = np.bincount(inv, weights=w[:, k], minlength=len(times))
            s_t = np.bincount(inv, weights=w[:, k] * panel.y, minlength=len(times))
            with np.errstate(invalid="ignore", divide="ignore"):
                m = np.where(n_t > 0, s_t / n_t, np.nan)
            rows.append(pd.DataFrame({"class": k + 1, "time": times, "n": n_t, "mean": m}))
        return pd.concat(rows, ignore_index=True)


def hidden_classes_note(tab: pd.DataFrame, min_cell: int) -> str:
    """The note naming the classes whose size is suppressed under ``min_cell``."""
    hidden = ", ".join(str(int(k)) for k in tab.loc[tab["n_assigned"].isna(), "class"])
    return (
        f"Class sizes below {min_cell}, and those they could be recovered from, are "
        f"suppressed (classes {hidden})."
    )
