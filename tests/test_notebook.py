"""Progress in a Jupyter notebook: a small notebook executed by nbclient, its saved outputs read.

What a saved notebook must show (issue 17): one live line per phase (the epochs, the current
phase) updated in place, never a stale 0% bar left behind; the epoch table in the cell's
standard output, in order, not on stderr (shown on a red background); every line within 80
columns.  Skipped where the notebook packages (the ``test`` extra) are absent.
"""
from __future__ import annotations

import os
import pathlib
import re

import pytest

import fastmlp

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

SETUP = """\
import numpy as np
from fastmlp import MLP
rng = np.random.default_rng(0)
X = rng.standard_normal((400, 4))
y = (X[:, 0] + X[:, 1] > 0).astype(int)
"""
FIT = "net = MLP(hidden=[8], seed=0).fit(X, y, epochs=4, validation_split=0.25)"
HISTORY = "print(repr(net.history_['loss']))"


def _run(tmp_path, monkeypatch):
    # the kernel is a child process: it must import the fastmlp under test
    root = str(pathlib.Path(fastmlp.__file__).resolve().parent.parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (root, os.environ.get("PYTHONPATH")) if p))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in (SETUP, FIT, HISTORY)]
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    path = tmp_path / "progress.ipynb"
    nbformat.write(nb, str(path))
    return nbformat.read(str(path), as_version=4)  # what a user reopens


def _texts(outputs, kind):
    out = []
    for o in outputs:
        if kind == "display" and o.output_type in ("display_data", "update_display_data"):
            out.append(o.data.get("text/plain", ""))
        elif kind == "stdout" and o.output_type == "stream" and o.name == "stdout":
            out.append(o.text)
    return out


def test_saved_notebook_shows_live_lines_and_the_table_in_order(tmp_path, monkeypatch):
    nb = _run(tmp_path, monkeypatch)
    outputs = nb.cells[1].outputs
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"], \
        "progress written to stderr"
    assert not [o for o in outputs if o.output_type == "error"]
    # one line for the epochs and one for the phase, each in its final state
    bars = _texts(outputs, "display")
    assert len(bars) == 2, bars
    assert "epochs" in bars[0] and "4/4" in bars[0]
    assert "valid" in bars[1] and "100/100" in bars[1]  # the last phase, complete
    for text in bars:
        assert not re.search(r"(?<![\d.])0%", text), f"a stale 0% bar: {text!r}"
    # the table: on stdout, header then epochs 1..4 in order, matching the history
    table = "".join(_texts(outputs, "stdout")).splitlines()
    assert table[0].split()[:2] == ["epoch", "loss"] and "val_loss" in table[0]
    assert [int(line.split()[0]) for line in table[1:]] == [1, 2, 3, 4]
    losses = eval(nb.cells[2].outputs[0].text)  # noqa: S307 (the notebook's own repr)
    assert [float(line.split()[1]) for line in table[1:]] == pytest.approx(losses, abs=1e-6)
    for line in table + [ln for text in bars for ln in text.splitlines()]:
        assert len(line) <= 80, line
