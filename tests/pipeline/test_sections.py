"""The [[meta]], [design] and [[sem]] spec sections: tiny specs run end to end.

Each spec runs on public data shipped with the tests; the numbers the run writes are
compared with the R references (metafor, survey, lavaan) the model tests already use.
"""

import shutil

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import SpecError
from mutualaid_outcomes.pipeline.runner import run_spec_file
from mutualaid_outcomes.pipeline.spec import load_spec

RTOL = 1e-6  # deterministic quantities, as in the model tests against R


def _spec(folder, text):
    path = folder / "analysis.toml"
    path.write_text(text)
    return path


def _run(folder, text, **kwargs):
    return run_spec_file(_spec(folder, text), folder / "out", progress=False, **kwargs)


META_SPEC = """
title = "BCG trials"
seed = 1
[data]
path = "bcg.csv"
[output]
table_formats = ["csv", "html", "docx"]
figure_formats = ["png"]

[[meta]]
name = "bcg"
path = "bcg.csv"
study = "author"
method = "REML"
test = "knha"
moderators = ["ablat"]
exponentiate = true
[meta.effect_sizes]
measure = "RR"
events1 = "tpos"
n1 = "n1"
events2 = "cpos"
n2 = "n2"

[labels.variables]
ablat = "Absolute latitude (degrees)"
"""


@pytest.fixture(scope="module")
def meta_run(tmp_path_factory, test_data):
    folder = tmp_path_factory.mktemp("meta")
    bcg = test_data("meta_bcg.csv")
    bcg.assign(n1=bcg.tpos + bcg.tneg, n2=bcg.cpos + bcg.cneg).to_csv(
        folder / "bcg.csv", index=False
    )
    return _run(folder, META_SPEC)


def test_meta_section_writes_metafor_numbers(meta_run, r_reference):
    out = meta_run.out_dir
    for name in ("meta_bcg_tidy.csv", "meta_bcg_glance.csv", "meta_bcg.html", "meta_bcg.docx"):
        assert (out / "tables" / name).is_file(), name
    assert (out / "figures" / "meta_bcg_forest.png").is_file()
    tidy = pd.read_csv(out / "tables" / "meta_bcg_tidy.csv").set_index("term")
    ref = r_reference("meta_metafor", model="bcg_ablat_REML_knha")
    beta = ref[ref.quantity == "beta"].set_index("term")["value"]
    se = ref[ref.quantity == "se"].set_index("term")["value"]
    np.testing.assert_allclose(tidy.loc["ablat", "estimate"], beta["ablat"], rtol=RTOL)
    np.testing.assert_allclose(tidy.loc["ablat", "std_error"], se["ablat"], rtol=RTOL)
    glance = pd.read_csv(out / "tables" / "meta_bcg_glance.csv")
    tau2 = ref[ref.quantity == "tau2"]["value"].iloc[0]
    np.testing.assert_allclose(glance["tau2"].iloc[0], tau2, rtol=RTOL)
    report = (out / "report.html").read_text()
    assert "Meta-analysis: bcg" in report
    # the moderator is labelled in the table and in the summary, and the table's
    # caption is not repeated by a section heading
    body = report.split("</nav>", 1)[-1]
    assert body.count("Absolute latitude (degrees)") >= 2
    assert "<h2>Meta-analysis: bcg</h2>" not in body
    assert any("bcg.csv" in k for k in meta_run.provenance["inputs"])


SEM_SPEC = """
title = "Ability tests"
seed = 3
[data]
path = "hs.csv"
[output]
table_formats = ["csv", "md"]
figure_formats = ["png"]

[[sem]]
name = "cfa"
model = '''
    visual  =~ x1 + x2 + x3
    textual =~ x4 + x5 + x6
    speed   =~ x7 + x8 + x9
'''
"""


@pytest.fixture(scope="module")
def sem_run(tmp_path_factory, paths):
    folder = tmp_path_factory.mktemp("sem")
    shutil.copy(paths.data / "sem_holzinger_swineford.csv", folder / "hs.csv")
    return _run(folder, SEM_SPEC)


def test_sem_section_writes_lavaan_numbers(sem_run, r_reference):
    out = sem_run.out_dir
    for name in ("sem_cfa_tidy.csv", "sem_cfa_glance.csv", "sem_cfa.md", "sem_fit.csv"):
        assert (out / "tables" / name).is_file(), name
    assert (out / "figures" / "sem_cfa_path.png").is_file()
    glance = pd.read_csv(out / "tables" / "sem_cfa_glance.csv").iloc[0]
    fit = r_reference("sem_lavaan_fit", model="hs_cfa").drop_duplicates("measure")
    fit = fit.set_index("measure")["value"]
    for ours, theirs in (("chisq", "chisq"), ("cfi", "cfi"), ("rmsea", "rmsea"), ("srmr", "srmr")):
        np.testing.assert_allclose(glance[ours], fit[theirs], rtol=RTOL)
    tidy = pd.read_csv(out / "tables" / "sem_cfa_tidy.csv")
    ref = r_reference("sem_lavaan_params", model="hs_cfa")
    both = tidy.merge(ref, on=["lhs", "op", "rhs"])
    assert len(both) == len(ref)
    np.testing.assert_allclose(both["estimate"], both["est"], rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(both["std_error"], both["se"], rtol=RTOL, atol=1e-12)
    assert "sem:cfa" in sem_run.provenance["seeds"]


DESIGN_SPEC = """
title = "California schools"
seed = 2
[data]
path = "apistrat.csv"
[output]
table_formats = ["csv", "html"]
figure_formats = ["png"]
min_cell = 5

[design]
dataset = "data"
weights = "pw"
strata = "stype"
fpc = "fpc"

[[models]]
name = "api"
type = "survey_glm"
formula = "api00 ~ ell + meals + mobility"

[[tables]]
name = "table1"
type = "table_one"
dataset = "data"
design = true
by = "stype"
variables = ["api00", "sch_wide"]
"""


@pytest.fixture(scope="module")
def design_run(tmp_path_factory, paths):
    folder = tmp_path_factory.mktemp("design")
    shutil.copy(paths.data / "survey_apistrat.csv", folder / "apistrat.csv")
    return _run(folder, DESIGN_SPEC)


def test_design_section_survey_glm_is_r_svyglm(design_run, r_reference):
    tidy = pd.read_csv(design_run.out_dir / "tables" / "model_api_tidy.csv").set_index("term")
    ref = r_reference("survey", case="strat")
    coef = ref[ref.quantity == "glm_gauss_coef"].set_index("term")["value"]
    se = ref[ref.quantity == "glm_gauss_se"].set_index("term")["value"]
    coef.index = se.index = [t.replace("(Intercept)", "Intercept") for t in coef.index]
    np.testing.assert_allclose(tidy.loc[coef.index, "estimate"], coef, rtol=RTOL)
    np.testing.assert_allclose(tidy.loc[se.index, "std_error"], se, rtol=RTOL)
    glance = pd.read_csv(design_run.out_dir / "tables" / "model_api_glance.csv")
    assert glance["df_resid"].iloc[0] == ref[ref.quantity == "glm_gauss_df"]["value"].iloc[0]


def test_design_section_weighted_table_one(design_run):
    table = pd.read_csv(design_run.out_dir / "tables" / "table1.csv", index_col=0)
    assert list(table.columns) == [
        "Overall (n = 200)", "E (n = 100)", "H (n = 50)", "M (n = 50)", "p", "SMD"
    ]  # fmt: skip
    # weighted mean of api00 in the population (R: svymean(~api00, dstrat) = 662.29)
    assert table.loc["api00, M (SD)", "Overall (n = 200)"].startswith("662.3 (")
    # unweighted counts with weighted percentages (R: svymean(~sch_wide) Yes = 0.8279)
    # (sch_wide is a yes/no column, so its "Yes" level is its one row)
    assert table.loc["sch_wide, n (%)", "Overall (n = 200)"] == "152 (82.8%)"
    assert "unweighted" in (design_run.out_dir / "report.html").read_text()
    assert "Survey design" in (design_run.out_dir / "report.html").read_text()


REPLICATE_SPEC = """
title = "California schools, jackknife replicate weights"
seed = 2
[data]
path = "apiclus1_jk1.csv"
[output]
table_formats = ["csv"]
figure_formats = ["png"]

[design]
dataset = "data"
weights = "pw"
replicate_weights = [{columns}]
type = "JK1"
scale = {scale!r}

[[models]]
name = "api"
type = "survey_glm"
formula = "api00 ~ ell + meals + mobility"
"""


def _replicate_spec(r_reference) -> str:
    ref = r_reference("survey", case="jk1")
    scale = float(ref[(ref.quantity == "design") & (ref.term == "scale")]["value"].iloc[0])
    columns = ", ".join(f'"jk{i}"' for i in range(1, 16))
    return REPLICATE_SPEC.format(columns=columns, scale=scale)


def test_design_section_with_replicate_weights_is_r_svrepdesign(tmp_path, paths, r_reference):
    shutil.copy(paths.data / "survey_apiclus1_jk1.csv", tmp_path / "apiclus1_jk1.csv")
    run = _run(tmp_path, _replicate_spec(r_reference))
    tidy = pd.read_csv(run.out_dir / "tables" / "model_api_tidy.csv").set_index("term")
    ref = r_reference("survey", case="jk1")
    coef = ref[ref.quantity == "glm_gauss_coef"].set_index("term")["value"]
    se = ref[ref.quantity == "glm_gauss_se"].set_index("term")["value"]
    coef.index = se.index = [t.replace("(Intercept)", "Intercept") for t in coef.index]
    np.testing.assert_allclose(tidy.loc[coef.index, "estimate"], coef, rtol=RTOL)
    np.testing.assert_allclose(tidy.loc[se.index, "std_error"], se, rtol=RTOL)
    glance = pd.read_csv(run.out_dir / "tables" / "model_api_glance.csv")
    assert glance["n_replicates"].iloc[0] == 15


@pytest.mark.parametrize(
    "bad,match",
    [
        (('type = "JK1"', 'type = "JK2"'), r"design\.type must be one of"),
        (
            ('type = "JK1"', 'type = "JK1"\nstrata = "stype"'),
            r"unknown key 'strata'.*replicate_design",
        ),
        (("replicate_weights = [", 'replicate_weights = "jk1"\n#'), r"list of column names"),
    ],
)
def test_bad_replicate_design_sections_are_refused(tmp_path, r_reference, bad, match):
    with pytest.raises(SpecError, match=match):
        load_spec(_spec(tmp_path, _replicate_spec(r_reference).replace(*bad)))


def test_replicate_weight_columns_are_checked_before_fitting(tmp_path, paths, r_reference):
    frame = pd.read_csv(paths.data / "survey_apiclus1_jk1.csv").drop(columns="jk7")
    frame.to_csv(tmp_path / "apiclus1_jk1.csv", index=False)
    with pytest.raises(SpecError, match=r"design .*column 'jk7'"):
        _run(tmp_path, _replicate_spec(r_reference))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "text,match",
    [
        (
            META_SPEC.replace('method = "REML"', 'method = "REMLL"'),
            r"meta 'bcg'\.method must be one of",
        ),
        (
            META_SPEC.replace("moderators", "moderator"),
            r"unknown key 'moderator' \(did you mean 'moderators'\?\)",
        ),
        (
            META_SPEC.replace('measure = "RR"', 'measure = "RRR"'),
            r"effect_sizes\.measure must be one of",
        ),
        (META_SPEC.replace('name = "bcg"', 'name = "../bcg"'), r"not a plain name"),
        (SEM_SPEC.replace("visual  =~ x1", "visual  =~~ x1"), r"sem 'cfa'\.model: .*line"),
        (
            SEM_SPEC.replace('name = "cfa"', 'name = "cfa"\nestimator = "WLSMV"'),
            r"estimator must be one of",
        ),
        (
            DESIGN_SPEC.replace('fpc = "fpc"', 'fpc = "fpc"\nlonely_psu = "drop"'),
            r"design\.lonely_psu must be one of",
        ),
        (
            DESIGN_SPEC.replace(
                '[design]\ndataset = "data"\nweights = "pw"\nstrata = "stype"\nfpc = "fpc"\n', ""
            ),
            r"survey_glm model, which needs a \[design\]",
        ),
        (
            DESIGN_SPEC.replace('type = "survey_glm"', 'type = "survey_glm"\nfilter = "api00 > 0"'),
            r"takes no `filter`",
        ),
        (
            DESIGN_SPEC.replace(
                'dataset = "data"\ndesign = true',
                'dataset = "data"\ndesign = true\nmodels = ["api"]',
            ).replace('type = "table_one"', 'type = "regression_table"'),
            r"applies to table_one tables only",
        ),
    ],
)
def test_bad_sections_are_refused_when_the_spec_is_read(tmp_path, text, match):
    with pytest.raises(SpecError, match=match):
        load_spec(_spec(tmp_path, text))


@pytest.mark.parametrize(
    "spec,data,bad,match",
    [
        (
            SEM_SPEC,
            "sem_holzinger_swineford.csv",
            ("x9\n", "x99\n"),
            r"column 'x99' is not in the data; did you mean",
        ),
        (META_SPEC, "meta_bcg.csv", ('study = "author"', 'study = "authors"'), r"column 'authors'"),
        (
            DESIGN_SPEC,
            "survey_apistrat.csv",
            ('weights = "pw"', 'weights = "pww"'),
            r"design .*column 'pww'",
        ),
    ],
)
def test_unknown_columns_stop_the_run_before_fitting(tmp_path, paths, spec, data, bad, match):
    frame = pd.read_csv(paths.data / data, comment="#")
    if data == "meta_bcg.csv":
        frame = frame.assign(n1=frame.tpos + frame.tneg, n2=frame.cpos + frame.cneg)
    target = {"sem_holzinger_swineford.csv": "hs.csv", "meta_bcg.csv": "bcg.csv"}.get(
        data, "apistrat.csv"
    )
    frame.to_csv(tmp_path / target, index=False)
    with pytest.raises(SpecError, match=match):
        _run(tmp_path, spec.replace(*bad))
    assert not (tmp_path / "out").exists()


def test_validate_checks_section_columns_and_study_files(tmp_path, paths, test_data):
    from mutualaid_outcomes.pipeline.runner import check_spec_file

    shutil.copy(paths.data / "sem_holzinger_swineford.csv", tmp_path / "hs.csv")
    missing_file = SEM_SPEC + '\n[[meta]]\nname = "pooled"\npath = "missing.csv"\n'
    with pytest.raises(SpecError, match=r"meta\[0\]\.path: .*missing\.csv.* does not exist"):
        check_spec_file(_spec(tmp_path, missing_file), progress=False)
    test_data("meta_bcg.csv").to_csv(tmp_path / "bcg.csv", index=False)
    text = SEM_SPEC.replace("x9\n", "x99\n") + (
        '\n[[meta]]\nname = "pooled"\npath = "bcg.csv"\nstudy = "authors"\n'
        '\n[design]\ndataset = "data"\nweights = "sampling_weight"\n'
    )
    with pytest.raises(SpecError) as err:
        check_spec_file(_spec(tmp_path, text), progress=False)
    message = str(err.value)  # every problem at once
    for name in ("'x99'", "'sampling_weight'", "'authors'", "'yi'"):
        assert name in message, name


def test_overwrite_never_replaces_a_folder_holding_a_study_file(tmp_path, test_data):
    from mutualaid_outcomes.errors import OutputFolderError

    bcg = test_data("meta_bcg.csv")
    studies = tmp_path / "studies"
    studies.mkdir()
    bcg.assign(n1=bcg.tpos + bcg.tneg, n2=bcg.cpos + bcg.cneg).to_csv(
        studies / "bcg.csv", index=False
    )
    shutil.copy(studies / "bcg.csv", tmp_path / "bcg.csv")
    text = META_SPEC.replace('path = "bcg.csv"\nstudy', 'path = "studies/bcg.csv"\nstudy')
    with pytest.raises(OutputFolderError):
        run_spec_file(_spec(tmp_path, text), studies, overwrite=True, progress=False)
    assert (studies / "bcg.csv").is_file()


LATENT_SPEC = """
title = "Latent mediator"
seed = 4
[data]
path = "med.csv"
[output]
table_formats = ["csv"]
figure_formats = ["png"]

[[models]]
name = "latent"
type = "mediation"
exposure = "x"
mediators = ["support"]
outcome = "y"
covariates = ["c1"]
indicators = { support = ["s1", "s2", "s3"] }
ci = "monte_carlo"
n_sims = 1000
"""


def test_mediation_model_with_latent_mediators(tmp_path, paths, r_reference):
    shutil.copy(paths.data / "sem_latent_mediation.csv", tmp_path / "med.csv")
    res = _run(tmp_path, LATENT_SPEC)
    tidy = pd.read_csv(res.out_dir / "tables" / "model_latent_tidy.csv").set_index("term")
    ref = r_reference("sem_lavaan_params", model="latent_med").set_index("label")
    np.testing.assert_allclose(
        tidy.loc["indirect[support]", ["estimate", "std_error"]].to_numpy(float),
        ref.loc["indirect", ["est", "se"]].to_numpy(float),
        rtol=RTOL,
    )
    with pytest.raises(SpecError, match=r"'s4'"):
        _run(_fresh(tmp_path, paths), LATENT_SPEC.replace('"s3"]', '"s4"]'))


def _fresh(tmp_path, paths):
    folder = tmp_path / "again"
    folder.mkdir()
    shutil.copy(paths.data / "sem_latent_mediation.csv", folder / "med.csv")
    return folder


MODERATED_SPEC = """
title = "Moderated mediation"
seed = 5
[data]
path = "sim.csv"
[output]
table_formats = ["csv"]
figure_formats = ["png"]

[[models]]
name = "modmed"
type = "mediation"
exposure = "x"
mediators = ["m1"]
outcome = "y"
covariates = ["c1"]
moderator = "w"
moderated_paths = ["a"]
ci = "percentile"
n_boot = 1000
"""


def test_mediation_model_with_moderator(tmp_path, paths, r_reference):
    sim = pd.read_csv(paths.data / "moderated_mediation_sim.csv", comment="#")
    sim.to_csv(tmp_path / "sim.csv", index=False)
    res = _run(tmp_path, MODERATED_SPEC)
    tidy = pd.read_csv(res.out_dir / "tables" / "model_modmed_tidy.csv").set_index("term")
    c = mediate_direct(sim)
    assert tidy.loc["index[m1]", "estimate"] == pytest.approx(c, rel=RTOL)
    with pytest.raises(SpecError, match=r"'w9'"):
        folder = tmp_path / "again"
        folder.mkdir()
        sim.to_csv(folder / "sim.csv", index=False)
        _run(folder, MODERATED_SPEC.replace('moderator = "w"', 'moderator = "w9"'))


def mediate_direct(sim):
    """The index a3 * b1 from two least-squares fits (numpy)."""
    x1 = np.column_stack([np.ones(len(sim)), sim.x, sim.w, sim.x * sim.w, sim.c1])
    a3 = np.linalg.lstsq(x1, sim.m1, rcond=None)[0][3]
    xy = np.column_stack([np.ones(len(sim)), sim.x, sim.m1, sim.c1])
    return a3 * np.linalg.lstsq(xy, sim.y, rcond=None)[0][2]
