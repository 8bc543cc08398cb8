"""The ``mutualaid`` command line.

Commands: ``demo`` (the worked analysis on the bundled sample cohort), ``run``
(a user's TOML analysis spec), ``validate`` (check a spec without running it),
``describe`` (codebook summary of a data file) and ``instruments`` (the instrument
library with citations).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Optional

import typer

from .errors import MutualAidError

#: exit status after Ctrl-C (128 + SIGINT), as shells report it
EXIT_INTERRUPTED = 130

SpecPath = Annotated[Path, typer.Argument(help="Analysis spec (TOML).")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace an existing output folder.")]


def _version_callback(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"mutualaid_outcomes {__version__}")
        raise typer.Exit()


app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Outcomes research on 12-step mutual-aid groups.",
    # plain help text: rich formatting would load rich's markdown stack at start-up
    # (about half a second); benchmarks/bench_import.py measures it
    rich_markup_mode=None,
)


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code=2)


@contextlib.contextmanager
def _reported_errors() -> Iterator[None]:
    """Turn the package's errors, operating-system errors and Ctrl-C into a message.

    A problem with the spec, the data or the environment (read-only folder, full disk)
    is one ``error:`` message and exit status 2, never a traceback; Ctrl-C prints what
    was left where and exits with status 130.
    """
    from ._files import os_cause

    try:
        yield
    except KeyboardInterrupt as exc:
        text = str(exc) or "Interrupted."
        typer.secho(f"interrupted: {text}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=EXIT_INTERRUPTED) from None
    except MutualAidError as exc:
        _fail(exc)
    except OSError as exc:
        where = f" '{exc.filename}'" if exc.filename else ""
        _fail(OSError(f"{os_cause(exc)}{where}"))


def demo_spec_path() -> Path:
    """Path of the demo analysis spec shipped inside the package."""
    from importlib import resources

    return Path(str(resources.files("mutualaid_outcomes.pipeline") / "demo.toml"))


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Print the package version and exit.",
        ),
    ] = False,
) -> None:
    """Outcomes research on 12-step mutual-aid groups."""


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("mutualaid-demo"),
    overwrite: Overwrite = False,
) -> None:
    """Run the full worked analysis on the bundled sample cohort."""
    from .pipeline.runner import run_spec_file

    with _reported_errors(), _convergence_printed_later():
        res = run_spec_file(demo_spec_path(), out, overwrite=overwrite)
    _print_run(res)


@app.command()
def run(
    spec: SpecPath,
    out: Annotated[
        Optional[Path],  # noqa: UP045 - typer reads the annotation at run time
        typer.Option("--out", help="Output folder (default: next to the spec)."),
    ] = None,
    overwrite: Overwrite = False,
) -> None:
    """Run an analysis described in a TOML spec."""
    from .pipeline.runner import run_spec_file

    target = out if out is not None else spec.with_suffix("").parent / f"{spec.stem}-output"
    with _reported_errors(), _convergence_printed_later():
        res = run_spec_file(spec, target, overwrite=overwrite)
    _print_run(res)


@app.command()
def validate(spec: SpecPath) -> None:
    """Check an analysis spec and its data without fitting anything.

    Reads the data files, scores the instruments, derives the columns and checks every
    column, expression, name and reference the spec uses; lists every problem found.
    """
    from .pipeline.runner import check_spec_file

    with _reported_errors():
        parsed = check_spec_file(spec, progress=False).spec
    typer.echo(
        f"{spec}: valid ({len(parsed.instruments)} instruments, {len(parsed.models)} models, "
        f"{len(parsed.tables)} tables, {len(parsed.figures)} figures)."
    )


@app.command()
def describe(
    path: Annotated[Path, typer.Argument(help="Data file (.csv, .sav, .dta, .parquet, ...).")],
    missing_codes: Annotated[
        Optional[str],  # noqa: UP045 - typer reads the annotation at run time
        typer.Option(
            "--missing-codes",
            help="Comma-separated sentinel codes to treat as missing, e.g. -9,98,99.",
        ),
    ] = None,
) -> None:
    """Print the codebook summary of a data file (labels, types, missing codes found)."""
    import pandas as pd

    from .io import describe_data, read_data

    codes = _missing_codes(missing_codes)
    with _reported_errors():
        frame = read_data(path, missing_codes=codes)
    summary = describe_data(frame)
    missing = summary["n_missing"].astype(int).astype(str)
    found = summary["missing_codes_found"].fillna("").astype(str)
    missing = [m if not f else f"{m} ({f})" for m, f in zip(missing, found)]
    rows = pd.DataFrame(
        {
            "Variable": summary["variable"],
            "Label": summary["label"].fillna(""),
            "Type": summary["type"].astype(str).str.replace("64", "").str.replace("32", ""),
            "N": summary["n"].astype(int).astype(str),
            "Missing": missing,
            "Value labels": [_clip(v, 80) for v in summary["value_labels"].fillna("").astype(str)],
        }
    )
    _print_table(rows, title=f"{path.name}: {len(frame)} rows, {frame.shape[1]} columns",
                 numeric=("N", "Missing"), ratios={"Label": 3, "Value labels": 2})  # fmt: skip


def _missing_codes(text: str | None) -> list[float] | None:
    """The numbers of ``--missing-codes``; a bad entry is one error message."""
    if not text:
        return None
    codes, bad = [], []
    for part in text.split(","):
        try:
            codes.append(float(part.strip()))
        except ValueError:
            bad.append(part.strip())
    if bad:
        _fail(
            ValueError(
                f"--missing-codes must be comma-separated numbers such as -9,98,99; "
                f"cannot read {', '.join(repr(b) for b in bad)}."
            )
        )
    return codes


@app.command()
def instruments() -> None:
    """List the instruments that can be scored, with item counts and citations."""
    import pandas as pd

    from .instruments import list_instruments

    table = list_instruments()
    rows = pd.DataFrame(
        {
            "Id": table["id"],
            "Instrument": table["name"],
            "Items": table["n_items"].astype(str),
            "Range": table["range"].astype(str),
            "Subscales": table["subscales"].astype(str).str.replace("_", " "),
        }
    )
    _print_table(rows, title=f"{len(rows)} instruments (citations: list_instruments())",
                 numeric=("Items",), ratios={"Instrument": 3, "Subscales": 2})  # fmt: skip


@app.command()
def version() -> None:
    """Print the package version."""
    from . import __version__

    typer.echo(__version__)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "\u2026"


#: the width tables are printed in (fits a standard 100-column terminal)
WIDTH = 100


def _print_table(
    frame: object,
    *,
    title: str,
    numeric: tuple[str, ...] = (),
    ratios: dict[str, int] | None = None,
) -> None:
    """Print a frame as a rich table that wraps its cells to fit ``WIDTH`` columns.

    ``ratios`` share the width left by the other columns among the named ones.
    """
    from rich.box import SIMPLE_HEAD
    from rich.console import Console
    from rich.table import Table

    ratios = ratios or {}
    table = Table(title=title, title_justify="left", box=SIMPLE_HEAD, pad_edge=False,
                  expand=bool(ratios))  # fmt: skip
    for col in frame.columns:  # type: ignore[attr-defined]
        table.add_column(str(col), justify="right" if col in numeric else "left",
                         overflow="fold", ratio=ratios.get(col), no_wrap=col not in ratios
                         and bool(ratios))  # fmt: skip
    for row in frame.itertuples(index=False):  # type: ignore[attr-defined]
        table.add_row(*(str(v) for v in row))
    Console(width=WIDTH, soft_wrap=False, highlight=False).print(table)


@contextlib.contextmanager
def _convergence_printed_later() -> Iterator[None]:
    """Hold back the pipeline's convergence warnings: ``_print_run`` prints them as one line."""
    import warnings

    from .errors import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        yield


def _print_run(res: object) -> None:
    out_dir = res.out_dir  # type: ignore[attr-defined]
    typer.echo(f"Wrote {out_dir}/")
    for name in ("report.html", "provenance.json"):
        typer.echo(f"  {name}")
    n_tables = len(list((out_dir / "tables").glob("*")))
    n_figs = len(list((out_dir / "figures").glob("*")))
    typer.echo(f"  tables/ ({n_tables} files), figures/ ({n_figs} files)")
    from ._convergence import NONCONVERGENCE_MARK, nonconvergence

    for name, model in res.models.items():  # type: ignore[attr-defined]
        g = model.glance()
        n = int(g.loc[0, "n"]) if "n" in g.columns and g.loc[0, "n"] == g.loc[0, "n"] else None
        why = nonconvergence(model)
        mark = f" {NONCONVERGENCE_MARK}" if why is not None else ""
        typer.echo(f"  model {name}: n = {n}{mark}")
        if why is not None:
            typer.secho(
                f"warning: model {name} did not converge ({why}); its tables mark it with "
                f"{NONCONVERGENCE_MARK}.",
                err=True,
                fg=typer.colors.YELLOW,
            )


def main() -> None:
    """Entry point of the ``mutualaid`` script."""
    app(prog_name="mutualaid")


if __name__ == "__main__":  # pragma: no cover
    main()
