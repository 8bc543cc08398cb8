"""Stage 5 of a run: fit the ``[[models]]`` and write their tidy and glance tables."""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING

from ..errors import SpecError
from .design_step import first_argument
from .functions import resolve_function, takes_rng
from .report import ReportSection

if TYPE_CHECKING:
    import pandas as pd

    from .context import RunContext
    from .spec import ModelStep

__all__ = ["fit_models"]


def _model_frame(ctx: RunContext, i: int, m: ModelStep) -> pd.DataFrame:
    """The dataset a model is fitted to, after its ``filter`` query."""
    frame = ctx.dataset(m.dataset, f"models[{i}] ({m.name})")
    if m.filter:
        try:
            frame = frame.query(m.filter)
        except Exception as exc:  # noqa: BLE001 - pandas raises many types
            raise SpecError(
                f"models[{i}] ({m.name}).filter '{m.filter}' could not be applied: {exc}"
            ) from None
    return frame


def fit_models(ctx: RunContext) -> None:
    """Fit every model of the spec, each with its own seed.

    Each function is called as ``func(dataset, **options, rng=generator)``: the
    options are the step's keys, already checked against the function's signature,
    and ``rng`` is passed to the functions that take one. The seeds come from ``numpy.random.SeedSequence(spec.seed).spawn(n_models)`` in
    spec order, so adding a model at the end leaves the earlier models' numbers
    unchanged. Each model's ``tidy()`` and ``glance()`` go to
    ``tables/model_NAME_tidy.csv`` and ``..._glance.csv``; warnings raised while
    fitting are listed in the model's report section.
    """
    import numpy as np

    spec = ctx.spec
    child_seeds = np.random.SeedSequence(spec.seed).spawn(max(len(spec.models), 1))
    for i, m in enumerate(spec.models):
        frame = _model_frame(ctx, i, m)
        func = resolve_function(m.type)
        seed = int(child_seeds[i].generate_state(1)[0])
        ctx.seeds[m.name] = seed
        options = dict(m.options)
        if takes_rng(m.type):
            options["rng"] = np.random.default_rng(seed)
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fitted = func(first_argument(ctx, m.type, frame), **options)
        elapsed = time.perf_counter() - t0
        ctx.models[m.name] = fitted
        for part, table in (("tidy", fitted.tidy()), ("glance", fitted.glance())):
            table.to_csv(
                ctx.tmp / "tables" / f"model_{m.name}_{part}.csv",
                index=False,
                float_format="%.10g",
            )
        msgs = sorted({str(w.message) for w in caught})
        ctx.model_sections.append(
            ReportSection(
                title=f"Model: {m.name} ({m.type})",
                html_blocks=[fitted.summary().as_html()],
                notes=[f"Fitted in {elapsed:.1f} s."] + [f"Warning: {w}" for w in msgs],
            )
        )
