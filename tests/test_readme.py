"""The README runs as shown: its Python snippets run, its commands are the real ones.

* Every ```python block runs on its own, as a user would paste it, in a fresh
  interpreter started in an empty temporary directory (so the fastmlp imported
  is the installed one, or the tree on PYTHONPATH, never a folder of the cwd).
  A block that imports an optional extra is skipped, with the reason, when the
  extra is absent.
* The first ```bash block starts with the two commands a new user runs: the
  install-and-train line and exactly the test command of ``.ci/run``.
* Every relative link of the README points at a file of the repository.
* The user guide's pages (``docs/guide/*.md``) run too: each page's ```python
  blocks in order, as one session.  An example that cannot run in a test (one
  that starts a Dask cluster) is written as a ``{code-block} python``
  directive, which this test does not collect.
* The README's ``fastmlp ...`` lines run, in order, in an empty folder (but the
  MNIST download and the benchmark).
* Every ``fastmlp ...`` line of a ```bash block (README and guide) parses (the subcommand's
  ``--help`` works and the line's options are the command's), every
  ``pip install ".[extra]"`` names an extra of pyproject.toml, and every
  ``pytest -m EXPR`` names registered markers.
"""
from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

#: top-level modules an optional extra provides, and the extra to install
OPTIONAL = {"sklearn": "sklearn", "scipy": "sklearn", "matplotlib": "plot", "dask": "dask",
            "dask_ml": "dask", "distributed": "dask", "torch": "PyTorch"}
#: fastmlp modules that import an extra themselves
NEEDS = {"fastmlp.sklearn": ["sklearn", "scipy"], "fastmlp.plotting": ["matplotlib"]}


def code_blocks(text: str, lang: str) -> list[tuple[int, str]]:
    """(line number, body) of every fenced block of ``lang`` in a Markdown text."""
    found = []
    for m in re.finditer(r"^```" + lang + r"[ \t]*\n(.*?)^```[ \t]*$", text, re.M | re.S):
        found.append((text.count("\n", 0, m.start()) + 1, m.group(1)))
    return found


def missing_extras(code: str) -> list[str]:
    """The optional modules a snippet imports that are not installed here."""
    wanted = set()
    for node in ast.walk(ast.parse(code)):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            if name.split(".")[0] in OPTIONAL:
                wanted.add(name.split(".")[0])
            for prefix, mods in NEEDS.items():
                if name == prefix or name.startswith(prefix + "."):
                    wanted.update(mods)
    return sorted(m for m in wanted if importlib.util.find_spec(m) is None)


def commands(text: str) -> list[str]:
    """Every command line of the ```bash blocks, comments stripped."""
    lines = []
    for _, body in code_blocks(text, "bash"):
        for line in body.splitlines():
            line = re.sub(r"(^|\s)#.*$", "", line).strip()
            if line:
                lines.append(line)
    return lines


def ci_test_command() -> str:
    """The command .ci/run runs the tests with (its one `pytest` line)."""
    if not (ROOT / ".ci" / "run").is_file():
        pytest.skip(".ci/run is not here (an sdist holds the tests, not the CI scripts)")
    lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()
             if ln.strip() and not ln.lstrip().startswith("#") and "pytest" in ln]
    assert len(lines) == 1, f".ci/run should have one pytest line; found {lines}"
    return lines[0]


TEXT = README.read_text(encoding="utf-8")
SNIPPETS = code_blocks(TEXT, "python")


def test_readme_is_short_and_has_snippets():
    assert len(TEXT.splitlines()) <= 260, "the README is for users: keep it near 250 lines"
    assert len(SNIPPETS) >= 2


def run_snippet(code: str, where: str, tmp_path: Path, warnings_ok: bool = False) -> None:
    """Run ``code`` in a fresh interpreter from an empty directory; fail on an error (and,
    unless ``warnings_ok``, on a warning)."""
    missing = missing_extras(code)
    if missing:
        pytest.skip(f"{where} needs {', '.join(missing)} (an optional extra)")
    script = tmp_path / "snippet.py"
    script.write_text(code, encoding="utf-8")
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (f"{where} failed:\n{code}\n"
                                  f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
    if not warnings_ok:
        assert "Warning" not in proc.stderr, f"{where} warns:\n{proc.stderr}"


@pytest.mark.parametrize("line,code", SNIPPETS, ids=[f"line{n}" for n, _ in SNIPPETS])
def test_python_snippet_runs(line, code, tmp_path):
    run_snippet(code, f"README snippet at line {line}", tmp_path)


#: guide pages with Python examples; the drop-ins' page runs grid searches (~20 s)
GUIDE = [pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.stem == "sklearn" else [])
         for p in sorted((ROOT / "docs" / "guide").glob("*.md"))
         if code_blocks(p.read_text(encoding="utf-8"), "python")]


@pytest.mark.parametrize("page", GUIDE)
def test_guide_page_runs(page, tmp_path):
    """A page's examples in order, as one session (some show a warning on purpose)."""
    blocks = code_blocks(page.read_text(encoding="utf-8"), "python")
    run_snippet("\n".join(body for _, body in blocks), f"docs/guide/{page.name}", tmp_path,
                warnings_ok=True)


def test_readme_links_exist():
    if not (ROOT / "docs").is_dir():
        pytest.skip("docs/ is not here (an sdist holds the tests, not the documentation)")
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", TEXT)
    local = [link for link in links if "://" not in link]
    assert local, "the README links into docs/"
    for link in local:
        assert (ROOT / link).exists(), f"README links to {link}, which does not exist"


def test_first_commands_are_train_and_ci_tests():
    first = code_blocks(TEXT, "bash")[0][1].splitlines()
    assert TEXT.lstrip().startswith("# fastmlp"), "the README starts with its title"
    assert TEXT.split("```bash", 1)[0].count("\n") <= 3, "the two commands come first"
    strip = [re.sub(r"\s+#.*$", "", ln).strip() for ln in first[:2]]
    assert strip[0] == "pip install . && fastmlp train"
    assert strip[1] == ci_test_command()


def test_first_command_trains(tmp_path):
    """`fastmlp train` (the first command's second half): progress, then a test accuracy."""
    proc = subprocess.run([sys.executable, "-m", "fastmlp", "train"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = proc.stdout + proc.stderr
    assert re.search(r"^epoch\s+loss", out, re.M), out[-2000:]
    m = re.search(r"test accuracy ([\d.]+)%", out)
    assert m and float(m.group(1)) >= 96.0, out[-2000:]


def _cli_lines():
    """The ``fastmlp`` command lines of the README and of the user guide."""
    texts = [TEXT] + [p.read_text(encoding="utf-8")
                      for p in sorted((ROOT / "docs" / "guide").glob("*.md"))]
    return sorted({c for t in texts for c in commands(t) if c.split()[0] == "fastmlp"})


@pytest.mark.parametrize("cmd", sorted({shlex.split(c)[1] for c in _cli_lines()
                                         if not shlex.split(c)[1].startswith("-")}))
def test_cli_subcommand_help(cmd, monkeypatch):
    from fastmlp.cli import commands as cli

    monkeypatch.chdir(ROOT)  # `fastmlp bench` runs the harness of a source checkout
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            status = cli.main([cmd, "--help"])
        except SystemExit as exc:  # the bench harness's own parser exits after --help
            status = exc.code or 0
    assert status == 0 and "usage" in out.getvalue().lower(), out.getvalue()


@pytest.mark.parametrize("line", _cli_lines())
def test_cli_line_parses(line):
    from fastmlp.cli import commands as cli

    argv = shlex.split(line)[1:]
    if argv[0] == "bench":
        pytest.skip("fastmlp bench parses its own options (benchmarks/harness.py)")
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            cli.build_parser().parse_args(argv)
        except SystemExit as exc:  # 0 after --version or --help; 2 for a usage error
            if exc.code not in (0, None):
                pytest.fail(f"`{line}` does not parse ({exc.code}): {err.getvalue()}")


#: README commands this test does not run: a download, and the benchmark (minutes)
NOT_RUN = ("--download", "bench")


def test_readme_cli_commands_run(tmp_path):
    """The README's ``fastmlp`` lines run as shown, in order, in one empty folder (the
    ones that download MNIST or time the benchmark are only parsed, above)."""
    lines = [c for c in commands(TEXT) if c.split()[0] == "fastmlp"]
    ran = 0
    for line in lines:
        argv = shlex.split(line)[1:]
        if any(word in argv for word in NOT_RUN):
            continue
        if "--plot" in argv and importlib.util.find_spec("matplotlib") is None:
            continue
        proc = subprocess.run([sys.executable, "-m", "fastmlp", *argv], cwd=tmp_path,
                              capture_output=True, text=True, timeout=600,
                              env=dict(os.environ, MPLBACKEND="Agg"))
        assert proc.returncode == 0, (f"`{line}` failed ({proc.returncode}):\n"
                                      f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        ran += 1
    assert ran >= 4


def test_pip_extras_and_markers_exist():
    tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extras = set(project["project"]["optional-dependencies"])
    markers = {m.split(":")[0].strip() for m in project["tool"]["pytest"]["ini_options"]["markers"]}
    checked = 0
    for line in commands(TEXT):
        for extra in re.findall(r"pip install \"\.\[([\w,-]+)\]\"", line):
            assert set(extra.split(",")) <= extras, f"`{line}`: no such extra in pyproject.toml"
            checked += 1
        for expr in re.findall(r"pytest\b.*?-m \"([^\"]+)\"", line):
            names = set(re.findall(r"\w+", expr)) - {"not", "and", "or"}
            assert names <= markers, f"`{line}`: marker(s) {names - markers} not registered"
            checked += 1
        for script in re.findall(r"bash (\S+\.sh)", line):
            assert (ROOT / script).is_file(), f"`{line}`: {script} does not exist"
    assert checked >= 2
