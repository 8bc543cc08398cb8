import copy
import json
import pickle

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    DataFileNotFoundError,
    DataValidationError,
    FileFormatError,
    OptionError,
)
from mutualaid_outcomes.io import (
    CODEBOOK_ATTR,
    Codebook,
    Variable,
    get_codebook,
    infer_codebook,
    set_codebook,
)


@pytest.fixture
def cb():
    return Codebook(
        [
            Variable(
                "sex",
                label="Sex",
                value_labels={0: "male", 1.0: "female"},
                missing_codes=(9,),
                measurement="nominal",
                missing_counts={9: 2},
                dtype="float64",
            ),
            Variable(
                "aa_meetings",
                label="AA meetings (past 90 days)",
                missing_codes=(-9, 999),
                missing_ranges=((-99, -10),),
                measurement="scale",
            ),
            Variable(
                "arm",
                label="Arm",
                value_labels={"TSF": "Twelve-step facilitation", "CBT": "Coping skills"},
                missing_codes=("NA",),
                measurement="nominal",
                dtype="object",
            ),
            Variable("x9", missing_codes=(".a", ".b"), missing_counts={".a": 3}),
        ]
    )


def test_variable_normalises_codes():
    v = Variable("q", value_labels={np.float64(1.0): "Yes", 2.5: "half"}, missing_codes=99.0)
    assert v.value_labels == {1: "Yes", 2.5: "half"}
    assert isinstance(next(iter(v.value_labels)), int)
    assert v.missing_codes == (99,)
    with pytest.raises(TypeError):
        v.value_labels[3] = "x"  # read-only
    with pytest.raises(OptionError, match="measurement of 'q'"):
        Variable("q", measurement="interval")
    with pytest.raises(DataValidationError, match="lo > hi"):
        Variable("q", missing_ranges=((5, 1),))
    with pytest.raises(ArgumentTypeError):
        Variable("q", label=3)


def test_label_fallback_and_accessors(cb):
    assert cb.label("sex") == "Sex"
    assert cb.label("x9") == "x9"  # no label
    assert cb.label("not_there") == "not_there"
    assert cb.value_labels("sex") == {0: "male", 1: "female"}
    assert cb.value_labels("not_there") == {}
    out = cb.value_labels("sex")
    out[5] = "changed"
    assert 5 not in cb.value_labels("sex")  # a copy
    assert cb.labels(["sex", "age"]) == {"sex": "Sex", "age": "age"}
    assert cb.names == ["sex", "aa_meetings", "arm", "x9"]
    assert "sex" in cb and "age" not in cb and len(cb) == 4
    assert list(cb) == cb.names
    assert cb.variable("sex").measurement == "nominal"
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'sex'"):
        cb.variable("sexx")


def test_immutable(cb):
    with pytest.raises(TypeError):
        cb["sex"] = 1
    with pytest.raises(TypeError):
        cb.update({})
    new = cb.replace("sex", label="Sex at birth")
    assert new.label("sex") == "Sex at birth" and cb.label("sex") == "Sex"


def test_subset_and_merge(cb):
    sub = cb.subset(["arm", "sex"])
    assert sub.names == ["arm", "sex"]
    with pytest.raises(ColumnNotFoundError, match="'arm' for 'armm'"):
        cb.subset(["armm"])
    merged = cb.merge([Variable("sex", label="Gender"), Variable("new")])
    assert merged.label("sex") == "Gender" and merged.names[-1] == "new"
    assert cb.label("sex") == "Sex"


def test_to_frame(cb):
    f = cb.to_frame()
    assert list(f.columns) == [
        "variable",
        "label",
        "measurement",
        "dtype",
        "value_labels",
        "missing_codes",
        "missing_ranges",
        "missing_counts",
        "read_notes",
    ]
    assert f.loc[1, "missing_ranges"] == [(-99, -10)]
    assert f.loc[0, "missing_counts"] == {9: 2}


def test_dict_schema(cb):
    d = cb.to_dict()
    json.dumps(d)  # plain JSON types
    sex = d["variables"]["sex"]
    assert sex["label"] == "Sex"
    assert sex["value_labels"] == {"0": "male", "1": "female"}
    assert sex["missing_codes"] == [9]
    assert sex["missing_ranges"] == []
    assert sex["measurement"] == "nominal"
    assert sex["missing_counts"] == {"9": 2}
    assert d["variables"]["aa_meetings"]["missing_ranges"] == [[-99, -10]]
    assert d["variables"]["x9"]["missing_counts"] == {".a": 3}
    assert Codebook.from_dict(d) == cb
    # string variables keep string codes, even numeric-looking ones
    s = Codebook([Variable("site", value_labels={"1": "one"}, dtype="object")])
    assert Codebook.from_dict(s.to_dict()).value_labels("site") == {"1": "one"}


def test_from_dict_lenient():
    cb = Codebook.from_dict(
        {"variables": {"sex": {"label": "Sex", "value_labels": {"0": "male", "1": "female"}}}}
    )
    assert cb.value_labels("sex") == {0: "male", 1: "female"}
    assert cb.measurement("sex") == "scale"
    assert cb.variable("sex").missing_codes == ()
    with pytest.raises(FileFormatError, match="variables"):
        Codebook.from_dict({"sex": {}})


def test_json_roundtrip(cb, tmp_path):
    path = cb.to_json(tmp_path / "cb.json")
    back = Codebook.from_json(path)
    assert back == cb
    assert back.variable("x9").missing_codes == (".a", ".b")
    assert back.variable("aa_meetings").missing_ranges == ((-99, -10),)
    with pytest.raises(DataFileNotFoundError, match="nope.json"):
        Codebook.from_json(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(FileFormatError, match="bad.json"):
        Codebook.from_json(tmp_path / "bad.json")


def test_reads_sample_schema_file(tmp_path):
    # the layout the sample-cohort codebook is written in
    text = {
        "variables": {
            "id": {"label": "Participant id", "value_labels": {}, "missing_codes": [],
                   "missing_ranges": [], "measurement": "nominal", "missing_counts": {}},
            "cesd_1": {"label": "CES-D item 1", "value_labels": {"0": "Rarely", "3": "Most"},
                       "missing_codes": [-9, 99], "missing_ranges": [[-99, -10]],
                       "measurement": "ordinal", "missing_counts": {"-9": 4, "99": 0}},
        }
    }  # fmt: skip
    (tmp_path / "codebook.json").write_text(json.dumps(text))
    cb = Codebook.from_json(tmp_path / "codebook.json")
    assert cb.variable("cesd_1").missing_counts == {-9: 4, 99: 0}
    assert cb.variable("cesd_1").missing_codes == (-9, 99)
    assert cb.measurement("cesd_1") == "ordinal"


def test_pickle_copy_and_json_dumps(cb):
    assert pickle.loads(pickle.dumps(cb)) == cb
    assert copy.deepcopy(cb) is cb
    assert json.loads(json.dumps(cb)) == cb.to_dict()
    inferred = infer_codebook(pd.DataFrame({"a": [1.5]}))
    assert pickle.loads(pickle.dumps(inferred)).inferred


def test_attach_and_get(cb):
    df = pd.DataFrame({"sex": [0, 1], "arm": ["TSF", "CBT"]})
    out = set_codebook(df, cb)
    assert CODEBOOK_ATTR not in df.attrs  # input untouched
    assert get_codebook(out) is cb
    # survives common pandas operations
    assert get_codebook(out[["sex"]]) == cb
    assert get_codebook(out.copy()) == cb
    assert get_codebook(pd.concat([out, out])) == cb
    # stored as a dict (as pandas.read_parquet restores attrs)
    plain = df.copy()
    plain.attrs[CODEBOOK_ATTR] = cb.to_dict()
    assert get_codebook(plain) == cb
    with pytest.raises(ArgumentTypeError, match="codebook"):
        set_codebook(df, ["not a codebook"])
    with pytest.raises(ArgumentTypeError, match="DataFrame"):
        get_codebook({"sex": [0]})


def test_frame_with_codebook_to_parquet(cb, tmp_path):
    df = set_codebook(pd.DataFrame({"sex": [0.0, 1.0]}), cb)
    df.to_parquet(tmp_path / "p.parquet")  # attrs must be JSON-serialisable
    back = pd.read_parquet(tmp_path / "p.parquet")
    assert get_codebook(back) == cb


def test_inferred_codebook():
    df = pd.DataFrame(
        {
            "flag": [True, False, True],
            "sex": [0, 1, 0],
            "pda": [0.1, 0.5, 0.9],
            "arm": ["TSF", "CBT", "MET"],
            "grade": pd.Categorical(["lo", "hi", "lo"], ["lo", "hi"], ordered=True),
            "when": pd.to_datetime(["2020-01-01", "2020-02-01", "2020-03-01"]),
        }
    )
    cb = get_codebook(df)
    assert cb.inferred
    assert [cb.measurement(c) for c in df.columns] == [
        "nominal",
        "nominal",
        "scale",
        "nominal",
        "ordinal",
        "scale",
    ]
    assert cb.variable("pda").dtype == "float64"
    assert "inferred" in repr(cb)


def test_pickled_frame_keeps_codebook(cb):
    df = set_codebook(pd.DataFrame({"sex": [0.0, 1.0]}), cb)
    back = pickle.loads(pickle.dumps(df))
    assert get_codebook(back) == cb


def test_from_dict_numeric_codes_written_as_text():
    cb = Codebook.from_dict({"variables": {"x": {"label": None, "missing_codes": ["99", ".a"]}}})
    assert cb.variable("x").missing_codes == (99, ".a")
