"""Start-up time: ``import mutualaid_outcomes`` and ``mutualaid --help``.

Run: python benchmarks/bench_import.py [n_runs]

Each command runs in ``n_runs`` (default 10) fresh interpreters and the median wall
time is printed next to the targets (import under 1 s, ``--help`` under 1.5 s on a
2-core machine) and next to peers timed in the same run: an empty interpreter (the
floor), ``import pandas`` (what almost every function needs anyway) and
``import statsmodels.api``. Then the ten slowest modules (cumulative time) of
``python -X importtime`` for both commands, and the heavy libraries ``--help`` loads
(there should be none).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

HELP = (
    "import sys; from mutualaid_outcomes.cli import main; sys.argv = ['mutualaid', '--help']\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
)
HEAVY = ("pandas", "scipy.stats", "statsmodels", "matplotlib", "pyreadstat", "pyarrow")
COMMANDS = {
    "empty interpreter": "pass",
    "import pandas": "import pandas",
    "import statsmodels.api": "import statsmodels.api",
    "import mutualaid_outcomes": "import mutualaid_outcomes",
    "mutualaid --help": HELP,
}
TARGETS = {"import mutualaid_outcomes": 1.0, "mutualaid --help": 1.5}


def wall(code: str, n_runs: int) -> float:
    """Median wall time of ``python -c code`` over ``n_runs`` fresh interpreters."""
    times = []
    for _ in range(n_runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def importtime_top(code: str, n: int = 10) -> list[tuple[int, str]]:
    """The ``n`` top-level-most expensive imports (cumulative microseconds, module)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], check=True, capture_output=True, text=True
    )
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line.split(":", 1)[1].split("|"))
        rows.append((int(cumulative), name))
    return sorted(rows, reverse=True)[:n]


def heavy_modules(code: str) -> list[str]:
    """Which of the heavy libraries ``code`` leaves imported."""
    probe = code + f"\nimport sys; print('LOADED:', *(m for m in {HEAVY!r} if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    return proc.stdout.strip().splitlines()[-1].split()[1:]


def main(n_runs: int = 10) -> None:
    print(f"median wall time of {n_runs} fresh interpreters ({sys.executable})")
    medians = {}
    for label, code in COMMANDS.items():
        medians[label] = wall(code, n_runs)
        target = TARGETS.get(label)
        note = f"  target < {target:.1f} s" if target else ""
        print(f"  {label:28s} {medians[label]:6.3f} s{note}")
    floor = medians["empty interpreter"]
    ours = medians["import mutualaid_outcomes"]
    print(
        f"ratio import mutualaid_outcomes / import pandas = {ours / medians['import pandas']:.2f}; "
        f"above an empty interpreter: {ours - floor:.3f} s"
    )
    print(
        f"ratio mutualaid --help / import statsmodels.api = "
        f"{medians['mutualaid --help'] / medians['import statsmodels.api']:.2f}"
    )
    for label in ("import mutualaid_outcomes", "mutualaid --help"):
        print(f"\n-X importtime, top entries of {label} (cumulative ms):")
        for us, name in importtime_top(COMMANDS[label]):
            print(f"  {us / 1000:8.1f}  {name}")
    print(f"\nheavy libraries loaded by mutualaid --help: {heavy_modules(HELP) or 'none'}")
    print(
        "heavy libraries loaded by import mutualaid_outcomes: "
        f"{heavy_modules('import mutualaid_outcomes') or 'none'}"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
