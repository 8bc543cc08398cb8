"""Wall and CPU medians of mediate's bootstrap beside another checkout, in one run.

10,000 BCa resamples, three parallel mediators, five covariates, N = 1,726 (the data of
``bench_mediation.py``). Each source tree is timed in its own subprocess; the trees
alternate, ``--rounds`` times, so both see the same load. Prints the load average and the
medians over all runs of wall-clock and CPU (all threads) seconds.

With ``--stages`` it times each stage of this tree's bootstrap on one thread instead
(CPU seconds, medians): drawing the indices, counting them, the cross-product matrix
product, the batched solves, and everything outside the bootstrap.

Usage:  python benchmarks/bench_mediation_bootstrap.py [--baseline /path/to/other/src]
        python benchmarks/bench_mediation_bootstrap.py --stages
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


STAGES = """
import json, sys, time, warnings
import numpy as np
sys.path.insert(0, {src!r}); sys.path.insert(1, {bench!r})
from bench_mediation import COVARIATES, MEDIATORS, make_data
from mutualaid_outcomes.models._core import counts
from mutualaid_outcomes.parallel import blas_single_thread
from mutualaid_outcomes.models.mediation import _product_engine as pe
from mutualaid_outcomes.models.mediation.product import mediate
warnings.simplefilter("ignore")
df = make_data(1726)
B, n = 10000, 1726

def cpu(fn, repeats={repeats}):
    fn()
    out = []
    for _ in range(repeats):
        c = time.process_time()
        fn()
        out.append(time.process_time() - c)
    return float(np.median(out))

engine = {{}}
real = pe.Engine.bootstrap
def keep(self, *args):
    engine["e"] = self
    engine["paths"] = real(self, *args)
    return engine["paths"]
pe.Engine.bootstrap = keep
run = lambda: mediate(df, "x", MEDIATORS, "y", COVARIATES, n_boot=B, ci="bca", rng=1).tidy()
counts._MAX_THREADS = 1
whole = cpu(run)
eng = engine["e"]
pe.Engine.bootstrap = lambda self, *args: engine["paths"]
outside = cpu(run)
entropy = counts._entropy(np.random.default_rng(1))
block = counts.block_size(n)
def draw():
    for j in range(-(-B // block)):
        counts.block_generator(entropy, j).integers(0, n, size=(block, n), dtype=np.uint16)
buf = np.empty((B, n))
fill = cpu(lambda: counts._fill_chunk(buf, 0, n, entropy))
inner = np.ascontiguousarray(eng.packer.packed_t[1:-1])
chunk = 675
def product():
    with blas_single_thread():
        for s in range(0, B, chunk):
            inner @ buf[s : s + chunk].T
cross = eng.packer.packed_t @ buf.T
def solve():
    for s in range(0, B, chunk):
        eng._paths_t(cross[:, s : s + chunk].copy())
res = {{"draw": cpu(draw), "count": 0.0, "product": cpu(product), "solve": cpu(solve),
       "outside": outside, "whole": whole}}
res["count"] = fill - res["draw"]
print(json.dumps(res))
"""


def stages(repeats: int) -> None:
    code = STAGES.format(src=str(HERE.parent / "src"), bench=str(HERE), repeats=repeats)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    res = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"load average: {os.getloadavg()}")
    print("one thread, CPU seconds (medians), 10,000 resamples, N = 1,726:")
    labels = {
        "draw": "draw 17.3 M indices (uint16)",
        "count": "count them into float rows",
        "product": "cross products (64 x N) @ (N x B)",
        "solve": "Cholesky + back substitution",
        "outside": "outside the bootstrap (+ tidy)",
        "whole": "whole call on one thread",
    }
    for key, label in labels.items():
        print(f"  {label:36s} {res[key]:6.3f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", help="another checkout's src directory to time beside")
    parser.add_argument("--rounds", type=int, default=2, help="alternations of the trees")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per round")
    parser.add_argument("--stages", action="store_true", help="time each stage on one thread")
    args = parser.parse_args(argv)
    if args.stages:
        stages(max(args.repeats, 5))
        return
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
