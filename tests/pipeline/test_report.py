"""The HTML report: numbered figure captions and the texts of the warnings it counts."""

import re

import pytest

from mutualaid_outcomes.pipeline.report import ReportSection, render_report


@pytest.fixture
def pngs(tmp_path):
    paths = []
    for name in ("km_arm", "forest_cox", "path_parallel"):
        p = tmp_path / f"{name}.png"
        p.write_bytes(b"PNG")
        paths.append(p)
    return paths


def test_figures_are_numbered_across_sections_with_their_captions(pngs):
    page = render_report(
        "Report",
        [
            ReportSection("Survival", figures=pngs[:2], captions=["Time to relapse by arm"]),
            ReportSection("Mediation", figures=pngs[2:], captions=["Parallel <mediators>"]),
        ],
    )
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page)
    assert captions == [
        "<b>Figure 1.</b> Time to relapse by arm",
        "<b>Figure 2.</b> forest cox",  # no caption given: the file name
        "<b>Figure 3.</b> Parallel &lt;mediators&gt;",
    ]
    assert page.count("<figure id='figure") == 3


def test_every_counted_warning_is_shown_with_its_text():
    texts = ["Survival data: 210 person(s) excluded: no row in `outcomes`.", "x < 0 & y"]
    page = render_report("Report", [ReportSection("Data", notes=["rows"], warnings=texts)])
    box = re.search(r"<div class='warnings'>(.*?)</div>", page).group(1)
    assert "<b>2 warnings</b>" in box
    assert re.findall(r"<li>(.*?)</li>", box) == [
        "Survival data: 210 person(s) excluded: no row in `outcomes`.",
        "x &lt; 0 &amp; y",
    ]
    assert "class='warnings'" not in render_report("Report", [ReportSection("Data")])


@pytest.mark.slow
def test_a_run_captions_its_figures_and_lists_its_data_warnings(tmp_path):
    from mutualaid_outcomes.pipeline.runner import run_analysis
    from mutualaid_outcomes.pipeline.spec import validate_spec

    km = {"name": "km", "type": "kaplan_meier", "dataset": "relapse"}
    km |= {"duration": "duration", "event": "event", "by": "arm"}
    spec = {
        "title": "survival figures",
        "seed": 3,
        "data": {"path": "sample:waves", "columns": ["id", "month", "pda"]},
        "participants": {"path": "sample:participants"},
        "calendar": {"path": "sample:calendar"},
        "survival": {"definition": "first_heavy"},
        "models": [km],
        "figures": [
            {"name": "km_arm", "type": "km", "model": "km", "title": "Relapse by arm"},
            {"name": "km_plain", "type": "km", "model": "km"},
        ],
        "output": {"figure_formats": ["png"], "table_formats": ["csv"]},
    }
    res = run_analysis(validate_spec(spec), tmp_path / "out", progress=False)
    page = (res.out_dir / "report.html").read_text()
    assert re.findall(r"<figcaption>(.*?)</figcaption>", page) == [
        "<b>Figure 1.</b> Relapse by arm",
        # an untitled figure is captioned from its content, not its file name
        "<b>Figure 2.</b> Kaplan-Meier estimates by randomised treatment arm, with numbers at risk",
    ]
    # the sample cohort has people with calendar days but no follow-up: one warning
    counted = re.search(r"\((\d+) data warning\(s\) while building it; see below", page)
    assert counted is not None
    items = re.findall(r"<li>Survival data: (.*?)</li>", page)
    assert len(items) == int(counted.group(1)) and "excluded" in items[0]


def test_figures_show_at_their_printed_size(tmp_path):
    # a figure saved at 300 dpi is shown at its printed width (96 CSS px an inch), so
    # every figure's text has the same size on the page
    import struct

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mutualaid_outcomes.plotting import save_figure

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1])
    png = save_figure(fig, tmp_path / "fig.png")[0]  # 300 dpi, tight bounding box
    plt.close(fig)
    pixels = struct.unpack(">I", png.read_bytes()[16:20])[0]
    page = render_report("R", [ReportSection("Figures", figures=[png])])
    widths = [int(w) for w in re.findall(r"style='width:(\d+)px'", page)]
    assert widths == [round(pixels / 300 * 96)] and 300 < widths[0] < 400
    # a file that does not state its resolution is shown as it is
    plain = tmp_path / "plain.png"
    plain.write_bytes(b"PNG")
    assert "style='width" not in render_report("R", [ReportSection("F", figures=[plain])])


def test_a_table_section_shows_the_table_caption_once():
    table = "<table class='mutualaid-table'><caption><b>Table 1</b><br><i>Baseline</i></caption></table>"
    page = render_report(
        "Report",
        [
            ReportSection("Data", notes=["rows"]),
            ReportSection("Table 1. Baseline", html_blocks=[table], heading=False),
        ],
    )
    assert page.count("Baseline</i></caption>") == 1
    assert "<h2>Table 1. Baseline</h2>" not in page and "<h2>Data</h2>" in page
    # the contents still link to the section
    assert "<li><a href='#s1'>Table 1. Baseline</a></li>" in page
