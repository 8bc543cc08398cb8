"""Write the simulated test data of the regression and GEE tests.

Run from the repository root: ``python tests/reference/regression_sim_data.py``.
Writes tests/data/regression_sim.csv (400 rows, 40 clusters; outcomes of every
regression family) and tests/data/regression_gee_dropout.csv (150 people, waves at
months 0-12 with drop-out and missed visits, AR(1) errors). The R reference
scripts (regression.R, gee.R, mixed.R) read these files.
"""

import numpy as np
import pandas as pd


def main():
    rng = np.random.default_rng(4040)
    n, G = 400, 40
    cl = np.repeat(np.arange(1, G + 1), n // G)
    u = rng.normal(0, 0.5, G)[cl - 1]
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.4, n)
    grp = rng.choice(["a", "b", "c"], n)
    gb = (grp == "b") * 0.4 + (grp == "c") * -0.3
    w = np.round(rng.uniform(0.5, 2, n), 3)
    eta = 0.3 + 0.5 * x1 - 0.4 * x2 + gb + u
    y_gauss = 1 + 2 * x1 - x2 + gb + u + rng.normal(size=n)
    y_bin = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    y_count = rng.poisson(np.exp(eta))
    mu = np.exp(0.5 + 0.5 * x1 - 0.4 * x2 + gb)
    y_nb = rng.negative_binomial(2.0, 2.0 / (2.0 + mu))
    p = 1 / (1 + np.exp(-eta))
    phi = 8
    y_beta = np.clip(rng.beta(p * phi, (1 - p) * phi), 1e-4, 1 - 1e-4)
    y_frac = rng.beta(p * phi, (1 - p) * phi)
    y_frac = np.where(rng.uniform(size=n) < 0.08, np.round(p), y_frac)  # piles at 0 and 1
    y_frac = np.round(y_frac, 4)
    lat = 0.8 * x1 - 0.5 * x2 + gb + rng.logistic(size=n)
    y_ord = np.digitize(lat, [-1.0, 0.3, 1.5]) + 1
    df = pd.DataFrame(
        dict(
            cluster=cl,
            x1=np.round(x1, 5),
            x2=x2,
            grp=grp,
            w=w,
            y_gauss=np.round(y_gauss, 5),
            y_bin=y_bin,
            y_count=y_count,
            y_nb=y_nb,
            y_frac=y_frac,
            y_beta=np.round(y_beta, 5),
            y_ord=y_ord,
        )
    )
    df.to_csv("tests/data/regression_sim.csv", index=False)

    # GEE cohort with drop-out and gaps: waves 0,3,6,9,12; AR(1) errors in months
    rng = np.random.default_rng(4041)
    N = 150
    months = np.array([0, 3, 6, 9, 12])
    rows = []
    for i in range(N):
        arm = rng.integers(0, 2)
        x = rng.normal()
        b = rng.normal(0, 0.6)
        e = np.zeros(5)
        e[0] = rng.normal()
        for j in range(1, 5):
            e[j] = 0.6 * e[j - 1] + np.sqrt(1 - 0.36) * rng.normal()
        r = rng.uniform()
        # pattern: 20% size-2 clusters, 10% size 1, gaps for some
        if r < 0.2:
            keep = [0, 1]
        elif r < 0.3:
            keep = [0]
        elif r < 0.45:
            keep = [0, 2, 4]  # gaps
        elif r < 0.6:
            keep = [0, 1, 3]
        else:
            keep = [0, 1, 2, 3, 4]
        for j in keep:
            m = months[j]
            lin = 0.2 + 0.5 * arm + 0.3 * x + 0.05 * m + b + e[j]
            yb = int(rng.uniform() < 1 / (1 + np.exp(-(-0.3 + 0.6 * arm + 0.4 * x + 0.03 * m + b))))
            yc = int(rng.poisson(np.exp(0.2 + 0.3 * arm + 0.2 * x + 0.02 * m + 0.5 * b)))
            rows.append(
                dict(id=i + 1, month=m, arm=arm, x=round(x, 5), y=round(lin, 5), yb=yb, yc=yc)
            )
    pd.DataFrame(rows).to_csv("tests/data/regression_gee_dropout.csv", index=False)


if __name__ == "__main__":
    main()
