"""Progress display for long steps: rich bars on a terminal, silent otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

__all__ = ["step_progress"]


@contextmanager
def step_progress(
    steps: Sequence[str], *, enabled: bool | None = None
) -> Iterator[Callable[[], None]]:
    """Show a progress bar over named steps; yields a function that advances one step.

    Silent when ``enabled`` is False, or when None and standard error is not a terminal
    (scripts, CI, notebooks' captured output).

    Examples
    --------
    >>> with step_progress(["a", "b"], enabled=False) as advance:
    ...     advance(); advance()
    """
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield lambda: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), transient=True
    ) as prog:
        task = prog.add_task(steps[0] if steps else "", total=len(steps))
        state = {"i": 0}

        def advance() -> None:
            state["i"] += 1
            nxt = steps[state["i"]] if state["i"] < len(steps) else "done"
            prog.update(task, advance=1, description=nxt)

        yield advance
