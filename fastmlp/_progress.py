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

In a Jupyter notebook (verbose=1, no ``file`` given) there are two lines
updated in place through IPython display handles -- the epochs, and the
current phase (train, then valid) -- and the table goes to the cell's
standard output, in order: no bar is ever created at 0% and left behind in
the saved notebook, and nothing lands on stderr's red background.

The table fits 80 columns: columns whose value the others already give
(error_rate = 1 - accuracy) are left out first when a row would be wider.

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
_MAX_COLS = 80  # the table's width limit
#: columns left out, in this order, while a table row would be wider than _MAX_COLS
_DROP_FIRST = ("error_rate", "val_error_rate", "mse", "val_mse", "mae", "val_mae", "r2", "val_r2")


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
    return f"{v:.6f}" if abs(v) < 10 else f"{v:.7g}"


def _table_columns(row: dict) -> list:
    """The table's columns for epoch rows like ``row``, narrowed to fit _MAX_COLS."""
    cols = ["epoch"] + [k for k in row if k not in _SKIP] + [k for k in _SKIP if k in row]

    def width(cs: list) -> int:
        return sum(max(len(k), len(_fmt(k, row[k])) if k in row else 5) for k in cs) \
            + 2 * (len(cs) - 1)

    for k in _DROP_FIRST:
        if width(cols) <= _MAX_COLS:
            break
        if k in cols:
            cols.remove(k)
    return cols


class _NotebookLine:
    """One line of text in a notebook cell's output, redrawn in place (an IPython
    display handle): the saved notebook keeps its last state, not its first."""

    def __init__(self, text: str) -> None:
        from IPython.display import display

        self.handle = display({"text/plain": text}, raw=True, display_id=True)

    def update(self, text: str) -> None:
        self.handle.update({"text/plain": text}, raw=True)


class _NotebookBar:
    """A tqdm-style bar drawn as a _NotebookLine, throttled to one redraw per
    _MIN_INTERVAL; relabelled and reset for each phase instead of replaced."""

    def __init__(self, total: Optional[int], desc: str, unit: str) -> None:
        import time

        self._clock = time.perf_counter
        self.line: Optional[_NotebookLine] = None
        self.reset(total, desc, unit)

    def reset(self, total: Optional[int], desc: str, unit: str) -> None:
        self.total, self.desc, self.unit, self.n, self.postfix = total, desc, unit, 0, ""
        self.start = self._last = self._clock()

    def _text(self) -> str:
        from tqdm import tqdm

        return tqdm.format_meter(self.n, self.total, self._clock() - self.start, ncols=_MAX_COLS,
                                 prefix=self.desc, unit=self.unit, postfix=self.postfix or None)

    def draw(self, force: bool = False) -> None:
        now = self._clock()
        if not force and now - self._last < _MIN_INTERVAL:
            return
        self._last = now
        if self.line is None:
            self.line = _NotebookLine(self._text())
        else:
            self.line.update(self._text())

    def update(self, n: int, postfix: str = "") -> None:
        self.n += n
        if postfix:
            self.postfix = postfix
        self.draw()


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
        # in a notebook, with no stream asked for: display lines and the table on stdout
        self.notebook = verbose == 1 and file is None and _in_notebook()
        self.file = sys.stdout if self.notebook else (file if file is not None else sys.stderr)
        self.tty = bool(getattr(self.file, "isatty", lambda: False)())
        self.bars = verbose == 1 and (self.tty or _in_notebook()) and not self.notebook
        self.master: Any = None
        self.bar: Any = None
        self.nb_master: Optional[_NotebookBar] = None
        self.nb_phase: Optional[_NotebookBar] = None
        self.epoch = 0
        self._cols: Optional[list] = None
        self._widths: dict = {}
        if self.notebook:
            self.nb_master = _NotebookBar(epochs, "epochs", "ep")
            self.nb_master.draw(force=True)
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
        if self.notebook:
            self._nb_phase(self.n_batches, "train", "batch")
        if self.bars:
            self.bar = self._new_bar(self.n_batches, "train", "batch")

    def update_train(self, n: int, logs: Any) -> None:
        """n more batches done; logs = running loss and metric of the epoch, as a dict or
        as fm_train's raw stats array ([loss*rows, correct, rows, penalty*rows])."""
        if self.bar is None and self.nb_phase is None:
            return
        if isinstance(logs, np.ndarray):
            from fastmlp._backend import TrainStats  # the one decoder of the stats vector

            st = TrainStats.decode(logs)
            rows = st.rows or 1.0
            logs = {"loss": (st.data_loss + st.penalty) / rows}
            if st.correct:
                logs["accuracy"] = st.correct / rows
        post = {k: f"{v:.4f}" for k, v in logs.items() if k in ("loss", "accuracy", "mse")}
        if self.nb_phase is not None:
            self.nb_phase.update(n, ", ".join(f"{k}={v}" for k, v in post.items()))
            return
        self.bar.set_postfix(post, refresh=False)
        self.bar.update(n)

    def start_validation(self, n_rows: Optional[int] = None) -> None:
        """Switch to the validation bar (of n_rows rows; None: no count)."""
        if self.notebook:
            self._nb_phase(n_rows, "valid", "row")
        if self.bars:
            if self.bar is not None:
                self.bar.close()
            self.bar = self._new_bar(n_rows, "valid", "row")

    def update_validation(self, n_rows: int) -> None:
        if self.nb_phase is not None:
            self.nb_phase.update(n_rows)
        if self.bar is not None:
            self.bar.update(n_rows)

    def _nb_phase(self, total: Optional[int], desc: str, unit: str) -> None:
        """The notebook's phase line: the finished phase drawn complete, then relabelled."""
        if self.nb_phase is None:
            self.nb_phase = _NotebookBar(total, desc, unit)
            self.nb_phase.draw(force=True)
            return
        self.nb_phase.draw(force=True)
        self.nb_phase.reset(total, desc, unit)

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
            self._cols = _table_columns(row)
            self._widths = {k: max(len(k), len(_fmt(k, row[k])) if k in row else 5)
                            for k in self._cols}
            self._line("  ".join(k.ljust(self._widths[k]) for k in self._cols).rstrip())
        vals = {"epoch": str(self.epoch + 1), **{k: _fmt(k, v) for k, v in row.items()}}
        self._line("  ".join(vals.get(k, "-").ljust(self._widths[k]) for k in self._cols).rstrip())
        if self.master is not None:
            self.master.update(1)
        if self.nb_master is not None:
            if self.nb_phase is not None:
                self.nb_phase.draw(force=True)
            self.nb_master.update(1)
            self.nb_master.draw(force=True)

    def close(self) -> None:
        if self.nb_master is not None:  # the last state stays in the saved notebook
            self.nb_master.draw(force=True)
            if self.nb_phase is not None:
                self.nb_phase.draw(force=True)
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.master is not None:
            self.master.close()
            self.master = None
