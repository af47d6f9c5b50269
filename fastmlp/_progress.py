"""Progress reporting for fit(): tqdm bars on a terminal, one line per epoch otherwise."""
from __future__ import annotations

import sys
import time
from typing import Optional

import numpy as np

_MIN_INTERVAL = 0.1  # seconds between bar redraws: keeps drawing off the hot path


class EpochProgress:
    """A master bar over epochs with a training bar per epoch (verbose=1 on a TTY),
    or one plain line per epoch when stderr is not a terminal; nothing at verbose=0."""

    def __init__(self, epochs: int, n_batches: int, verbose: int, has_val: bool,
                 file=None) -> None:
        self.epochs, self.n_batches, self.verbose, self.has_val = epochs, n_batches, verbose, has_val
        self.file = file or sys.stderr
        self.tty = bool(getattr(self.file, "isatty", lambda: False)())
        self.bar = None
        self.master = None
        self.epoch = 0
        self._last = 0.0
        if verbose and self.tty:
            from tqdm.auto import tqdm
            self._tqdm = tqdm
            self.master = tqdm(total=epochs, desc="epochs", unit="ep", file=self.file,
                               dynamic_ncols=True, leave=True)

    def start_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if self.master is not None:
            self.bar = self._tqdm(total=self.n_batches, desc=f"epoch {epoch + 1} train",
                                  unit="batch", file=self.file, leave=False, dynamic_ncols=True,
                                  mininterval=_MIN_INTERVAL)

    def update_train(self, n: int, stats: np.ndarray) -> None:
        if self.bar is None:
            return
        self.bar.update(n)
        now = time.perf_counter()
        if now - self._last >= _MIN_INTERVAL and stats[2]:
            self._last = now
            post = {"loss": f"{(stats[0] + stats[3]) / stats[2]:.4f}"}
            if stats[1]:
                post["acc"] = f"{stats[1] / stats[2]:.4f}"
            self.bar.set_postfix(post, refresh=False)

    def start_validation(self) -> None:
        if self.bar is not None:
            self.bar.set_description(f"epoch {self.epoch + 1} valid")

    def end_epoch(self, row: dict) -> None:
        if not self.verbose:
            return
        parts = [f"{k}={v:.4f}" for k, v in row.items() if k not in ("lr", "time")]
        line = f"epoch {self.epoch + 1}/{self.epochs}  " + "  ".join(parts) + f"  ({row['time']:.2f}s)"
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.master is not None:
            self.master.update(1)
            self.master.write(line, file=self.file)
        else:
            print(line, file=self.file, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.master is not None:
            self.master.close()
