"""The HTML label column: as wide as its labels (capped), left-aligned, level rows indented."""

import re

import pandas as pd

from mutualaid_outcomes.pipeline.report import ReportSection, render_report
from mutualaid_outcomes.tables import table_one
from mutualaid_outcomes.tables._html import LABEL_CAP_CH, TABLE_CSS


def _table():
    df = pd.DataFrame(
        {
            "arm": ["A"] * 4 + ["B"] * 4,
            "site": ["x", "y", "x", "y", "x", "y", "x", "y"],
            "pda": [0.1, 0.2, 0.5, 0.7, 0.3, 0.2, 0.9, 0.4],
            "age": [30.0, 41, 52, 33, 44, 25, 36, 47],
        }
    )
    labels = {
        "pda": "Proportion of days abstinent, 90 days before the wave (0-1)",
        "age": "Age at intake (years)",
        "site": "Clinical site",
    }
    return table_one(df, by="arm", labels=labels, nonnormal=["pda"], tests=False, smd=False)


def _label_cells(html):
    return re.findall(r"<td class='(mutualaid-label[^']*)' style='([^']*)'>(.*?)</td>", html)


def test_short_labels_never_wrap_and_the_column_is_sized_in_ch():
    t = _table()
    html = t._repr_html_()
    cells = {text: (cls, style) for cls, style, text in _label_cells(html)}
    cls, style = cells["Age at intake (years), M (SD)"]
    assert "mutualaid-nowrap" in cls and "white-space:nowrap" in style
    assert "text-align:left" in style
    # the stub header reserves the longest label's width, up to the cap
    longest = max(len(label) + 3 * level for label, _, level in t.rows())
    assert longest > LABEL_CAP_CH
    assert f"min-width:{LABEL_CAP_CH}ch" in html


def test_long_labels_wrap_but_keep_their_statistic_together():
    cells = _label_cells(_table().to_html())
    (cls, style, text), *_ = [c for c in cells if c[2].startswith("Proportion")]
    assert "mutualaid-nowrap" not in cls and "white-space:normal" in style
    assert text.endswith("Mdn&nbsp;[Q1,&nbsp;Q3]")


def test_level_rows_carry_the_indent_class_and_padding():
    cells = {text: (cls, style) for cls, style, text in _label_cells(_table().to_html())}
    for level in ("x", "y"):
        cls, style = cells[level]
        assert "mutualaid-indent-1" in cls and "padding-left:2.1em" in style
    cls, style = cells["Clinical site, n (%)"]
    assert "mutualaid-indent" not in cls and "padding-left:0.6em" in style


def test_numeric_cells_never_break_mid_number():
    html = _table().to_html()
    nums = re.findall(r"<td class='mutualaid-num' style='([^']*)'>", html)
    assert nums and all("white-space:nowrap" in s for s in nums)


def test_the_report_and_standalone_pages_carry_the_rules():
    t = _table()
    assert ".mutualaid-table td.mutualaid-indent-1{padding-left:2.1em}" in TABLE_CSS
    assert "td.mutualaid-num{white-space:nowrap" in TABLE_CSS
    page = render_report("Demo", [ReportSection("Table 1", html_blocks=[t.to_html()])])
    assert TABLE_CSS in page and "mutualaid-indent-1" in page
    assert TABLE_CSS in t.to_html(standalone=True)
