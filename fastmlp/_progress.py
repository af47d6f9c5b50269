"""Progress reporting for fit(), fastai-style.

On a terminal (or in a notebook, through ``tqdm.auto``) with verbose=1: a
master bar over epochs, and within each epoch a bar for the training phase
(running loss and metric in its postfix) and one for the validation phase;
each finished epoch leaves one row of a table above the bars::

    epoch  loss      accuracy  val_loss  val_accuracy  lr        time
    1      0.412345  0.881234  0.301234  0.912345      1.00e-02  0.41s

When the stream is not a terminal (CI, a log file), or with verbose=2, the
bars are left out and only the header and one plain line per epoch are
printed.  verbose=0 prints nothing.

Cost: bars are updated once per chunk of batches run in C (a chunk lasts
about 50 ms, see _trainer.py), and tqdm redraws at most every 0.1 s, so the
display does not slow training measurably.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Optional

import numpy as np

_MIN_INTERVAL = 0.1  # seconds between redraws
_SKIP = ("lr", "time")


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (tqdm.auto then draws widgets)."""
    if "IPython" not in sys.modules:
        return False
    try:
        ip = sys.modules["IPython"].get_ipython()
    except AttributeError:
        return False
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def _width(file: Any) -> dict:
    """tqdm's width arguments: follow the terminal's size when it reports one; else
    (a stream without a terminal behind it, or a terminal reporting 0 columns, which
    would make tqdm draw empty bars) a fixed $COLUMNS or 100."""
    try:
        cols = os.get_terminal_size(file.fileno()).columns
    except (AttributeError, OSError, ValueError):
        cols = 0
    if cols > 0:
        return {"dynamic_ncols": True}
    env = os.environ.get("COLUMNS", "")
    return {"ncols": int(env) if env.isdigit() and int(env) > 0 else 100}


def _fmt(key: str, v: float) -> str:
    if key == "lr":
        return f"{v:.2e}"
    if key == "time":
        return f"{v:.3f}s" if v < 1 else f"{v:.2f}s"
    return f"{v:.6f}"


class EpochProgress:
    """Bars or lines for one fit (see the module docstring).

    Parameters
    ----------
    epochs : int
    n_batches : int
        Batches per epoch (the training bar's total).
    verbose : int
        0 nothing, 1 bars on a terminal / lines otherwise, 2 lines always.
    file : stream, optional
        Where to write; default sys.stderr (read at construction).
    has_val : bool, optional
        Accepted for compatibility; validation bars appear when
        :meth:`start_validation` is called.
    """

    def __init__(self, epochs: int, n_batches: int, verbose: int, file: Any = None,
                 has_val: Optional[bool] = None) -> None:
        self.epochs, self.n_batches, self.verbose = epochs, n_batches, verbose
        self.file = file if file is not None else sys.stderr
        self.tty = bool(getattr(self.file, "isatty", lambda: False)())
        self.bars = verbose == 1 and (self.tty or _in_notebook())
        self.master: Any = None
        self.bar: Any = None
        self.epoch = 0
        self._cols: Optional[list] = None
        self._widths: dict = {}
        if self.bars:
            from tqdm.auto import tqdm
            self._tqdm = tqdm
            self._width = _width(self.file)
            self.master = tqdm(total=epochs, desc="epochs", unit="ep", file=self.file,
                               leave=True, mininterval=_MIN_INTERVAL, **self._width)

    def _new_bar(self, total: int, desc: str, unit: str) -> Any:
        return self._tqdm(total=total, desc=desc, unit=unit, file=self.file, leave=False,
                          mininterval=_MIN_INTERVAL, **self._width)

    def start_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if self.bars:
            self.bar = self._new_bar(self.n_batches, "train", "batch")

    def update_train(self, n: int, logs: Any) -> None:
        """n more batches done; logs = running loss and metric of the epoch, as a dict or
        as fm_train's raw stats array ([loss*rows, correct, rows, penalty*rows])."""
        if self.bar is None:
            return
        if isinstance(logs, np.ndarray):
            stats, rows = logs, float(logs[2]) or 1.0
            logs = {"loss": (stats[0] + stats[3]) / rows}
            if stats[1]:
                logs["accuracy"] = stats[1] / rows
        post = {k: f"{v:.4f}" for k, v in logs.items() if k in ("loss", "accuracy", "mse")}
        self.bar.set_postfix(post, refresh=False)
        self.bar.update(n)

    def start_validation(self, n_rows: Optional[int] = None) -> None:
        """Switch to the validation bar (of n_rows rows; None: no count)."""
        if self.bars:
            if self.bar is not None:
                self.bar.close()
            self.bar = self._new_bar(n_rows, "valid", "row")

    def update_validation(self, n_rows: int) -> None:
        if self.bar is not None:
            self.bar.update(n_rows)

    def _line(self, text: str) -> None:
        if self.master is not None:
            self.master.write(text, file=self.file)
        else:
            print(text, file=self.file, flush=True)

    def end_epoch(self, row: dict) -> None:
        """Close the epoch's bars and print its table row."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if not self.verbose:
            return
        if self._cols is None:
            self._cols = ["epoch"] + [k for k in row if k not in _SKIP] + [k for k in _SKIP
                                                                          if k in row]
            self._widths = {k: max(len(k), 10) for k in self._cols}
            self._line("  ".join(k.ljust(self._widths[k]) for k in self._cols).rstrip())
        vals = {"epoch": str(self.epoch + 1), **{k: _fmt(k, v) for k, v in row.items()}}
        self._line("  ".join(vals.get(k, "-").ljust(self._widths[k]) for k in self._cols).rstrip())
        if self.master is not None:
            self.master.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.master is not None:
            self.master.close()
            self.master = None
