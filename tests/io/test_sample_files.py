"""The io layer on the committed sample cohort files (labelled .sav, CSV + codebook.json)."""

from mutualaid_outcomes.io import Codebook, get_codebook, read_data

COLUMNS = ["id", "month", "aas_1", "aas_2", "pda"]


def test_sav_and_csv_with_codebook_agree(paths):
    sav = read_data(paths.sample / "waves.sav", columns=COLUMNS)
    csv = read_data(
        paths.sample / "waves.csv", columns=COLUMNS, codebook=paths.sample / "codebook.json"
    )
    book = Codebook.from_json(paths.sample / "codebook.json")
    for col in ("aas_1", "aas_2"):
        declared = book.variable(col).missing_codes
        assert declared  # the items carry sentinel codes
        for df in (sav, csv):
            assert not df[col].isin(declared).any()  # no sentinel kept as a value
        counts_sav = get_codebook(sav).missing_counts(col)
        counts_csv = get_codebook(csv).missing_counts(col)
        assert counts_sav == counts_csv and sum(counts_sav.values()) > 0
        assert sav[col].isna().sum() == csv[col].isna().sum()
        assert get_codebook(sav).value_labels(col) == book.value_labels(col)
        assert get_codebook(sav).label(col) == book.label(col)
