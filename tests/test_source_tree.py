"""``import fastmlp`` from a source tree whose compiled core is not built (Python
started in the repository root after ``pip install .``) fails with one line that
says what to do, not with a bare ``No module named 'fastmlp._core'``."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import fastmlp

_BUILT = ("_core.*.so", "_core.*.pyd", "_core.so", "_core.pyd", "__pycache__")


def _import_from_copy(tmp_path: Path, source_tree: bool) -> subprocess.CompletedProcess:
    """``import fastmlp`` in a fresh Python whose working directory holds a copy of the
    package without its compiled core (with the Cython source as a source tree has)."""
    pkg = tmp_path / "fastmlp"
    shutil.copytree(Path(fastmlp.__file__).parent, pkg, ignore=shutil.ignore_patterns(*_BUILT))
    (pkg / "_core.pyx").unlink(missing_ok=True)
    if source_tree:
        (pkg / "_core.pyx").write_text("# the Cython source, as in a checkout\n")
    # `python -c` puts the working directory first on sys.path, as in the repository root
    return subprocess.run([sys.executable, "-c", "import fastmlp"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600, check=False)


def test_source_tree_without_core_says_what_to_do(tmp_path):
    proc = _import_from_copy(tmp_path, source_tree=True)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: fastmlp is imported from its source tree"), proc.stderr
    assert str(tmp_path) in last
    assert "`pip install -e .`" in last
    assert "python setup.py build_ext --inplace" in last
    assert "outside that directory" in last
    assert "No module named" not in proc.stderr  # the bare error is not chained in


def test_an_installed_package_without_core_keeps_the_plain_error(tmp_path):
    """Outside a source tree the missing core is a broken install: the original error."""
    proc = _import_from_copy(tmp_path, source_tree=False)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1] == (
        "ModuleNotFoundError: No module named 'fastmlp._core'"), proc.stderr
