"""The README's quickstart runs as written (a new user's first steps)."""

import re


def _python_blocks(readme):
    return re.findall(r"```python\n(.*?)```", readme.read_text(), flags=re.S)


def test_readme_opens_with_the_two_commands(paths):
    blocks = re.findall(r"```bash\n(.*?)```", paths.readme.read_text(), flags=re.S)
    assert blocks[0].strip() == "pip install . && mutualaid demo"
    assert blocks[1].strip() == 'pip install -e ".[test]" && pytest'


def test_ci_runs_the_readme_test_command(paths):
    ci = paths.ci.read_text()
    assert 'pip install -e ".[test]" && pytest' in ci


def test_quickstart_runs(capsys, paths):
    code = _python_blocks(paths.readme)[0]
    assert len(code.strip().splitlines()) <= 20
    namespace: dict = {}
    exec(compile(code, "README quickstart", "exec"), namespace)  # noqa: S102
    tidy = namespace["res"].tidy()
    assert {"indirect[aase_conf_total_t9]", "total_indirect", "direct", "total"} <= set(
        tidy["term"]
    )
    assert "Table 1" in capsys.readouterr().out
