"""The README's quickstart runs as written (a new user's first steps)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_opens_with_the_two_commands():
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks[0].strip() == "pip install . && mutualaid demo"
    assert blocks[1].strip() == 'pip install -e ".[test]" && pytest'


def test_ci_runs_the_readme_test_command():
    ci = (README.parent / ".ci" / "run").read_text()
    assert 'pip install -e ".[test]" && pytest' in ci


def test_quickstart_runs(capsys):
    code = _python_blocks()[0]
    assert len(code.strip().splitlines()) <= 20
    namespace: dict = {}
    exec(compile(code, "README quickstart", "exec"), namespace)  # noqa: S102
    tidy = namespace["res"].tidy()
    assert {"indirect[aase_conf_total_t9]", "total_indirect", "direct", "total"} <= set(
        tidy["term"]
    )
    assert "Table 1" in capsys.readouterr().out
