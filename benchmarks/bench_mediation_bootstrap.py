"""Wall and CPU medians of mediate's bootstrap beside another checkout, in one run.

10,000 BCa resamples, three parallel mediators, five covariates, N = 1,726 (the data of
``bench_mediation.py``). Each source tree is timed in its own subprocess; the trees
alternate, ``--rounds`` times, so both see the same load. Prints the load average and the
medians over all runs of wall-clock and CPU (all threads) seconds.

Usage:  python benchmarks/bench_mediation_bootstrap.py [--baseline /path/to/other/src]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHILD = """
import json, sys, time, warnings
sys.path.insert(0, {src!r}); sys.path.insert(1, {bench!r})
from bench_mediation import COVARIATES, MEDIATORS, make_data
from mutualaid_outcomes.models.mediation.product import mediate
df = make_data(1726)
warnings.simplefilter("ignore")
run = lambda: mediate(df, "x", MEDIATORS, "y", COVARIATES, n_boot=10000, ci="bca", rng=1).tidy()
run()
out = []
for _ in range({repeats}):
    w, c = time.perf_counter(), time.process_time()
    run()
    out.append((time.perf_counter() - w, time.process_time() - c))
print(json.dumps(out))
"""


def time_tree(src: str, repeats: int) -> list[tuple[float, float]]:
    code = CHILD.format(src=src, bench=str(HERE), repeats=repeats)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", help="another checkout's src directory to time beside")
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the trees")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per round")
    args = parser.parse_args(argv)
    trees = {"this tree": str(HERE.parent / "src")}
    if args.baseline:
        trees["baseline"] = str(Path(args.baseline).resolve())
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    print(f"load average at start: {os.getloadavg()}")
    for _ in range(args.rounds):
        for name, src in trees.items():
            times[name] += time_tree(src, args.repeats)
    print(f"load average at end:   {os.getloadavg()}")
    print("mediate, 10,000 BCa resamples, 3 mediators, N = 1,726 (medians of all runs)")
    med = {}
    for name, runs in times.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        med[name] = (wall, cpu)
        print(
            f"{name:10s} runs {len(runs):3d}  wall {wall:6.3f} s  CPU {cpu:6.3f} s  (target 0.25 s)"
        )
    if "baseline" in med:
        (w0, c0), (w1, c1) = med["baseline"], med["this tree"]
        print(f"baseline / this tree: wall {w0 / w1:5.2f}x, CPU {c0 / c1:5.2f}x")


if __name__ == "__main__":
    main()
