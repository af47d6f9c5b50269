"""The ``fastmlp`` command line (also ``python -m fastmlp``).

User mistakes print one line on stderr and exit with status 2; no traceback.
"""
from __future__ import annotations

import argparse
import sys
import time
from typing import Optional, Sequence

import numpy as np

EXAMPLES = """examples:
  fastmlp train                          train 64-64-10 on the embedded 8x8 digits
  fastmlp train --layers 64-128-64-10 --epochs 30 --optimizer adam --lr 0.001
  fastmlp info                           version, SIMD path, OpenMP, threads
"""


class UserError(Exception):
    """A mistake in the command line or its inputs: reported in one line."""


def _split(X: np.ndarray, y: np.ndarray, test_fraction: float, seed: int):
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(X))
    n_test = int(round(len(X) * test_fraction))
    return X[idx[n_test:]], y[idx[n_test:]], X[idx[:n_test]], y[idx[:n_test]]


def cmd_train(args: argparse.Namespace) -> int:
    from fastmlp import MLP
    from fastmlp.datasets import load_digits

    if args.dataset != "digits":
        raise UserError(f"unknown dataset {args.dataset!r}; available: digits")
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    Xtr, ytr, Xte, yte = _split(X, y, 0.2, args.seed)
    layers = args.layers or f"{X.shape[1]}-64-10"
    try:
        net = MLP(layers, activation=args.activation, seed=args.seed, n_threads=args.threads)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if net.layers[0] != X.shape[1] or net.layers[-1] != 10:
        raise UserError(f"--layers must start with {X.shape[1]} inputs and end with 10 outputs "
                        f"for {args.dataset}; got {layers}")
    print(f"fastmlp: {args.dataset}: {len(Xtr)} training / {len(Xte)} test samples; "
          f"network {'-'.join(map(str, net.layers))} ({net.n_params:,} parameters)", flush=True)
    t0 = time.perf_counter()
    try:
        net.fit(Xtr, ytr, epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
                optimizer=args.optimizer, momentum=args.momentum, validation_split=0.1,
                verbose=1)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    dt = time.perf_counter() - t0
    acc = net.score(Xte, yte)
    print(f"test accuracy {acc:.2%} (error rate {1 - acc:.2%}) after {args.epochs} epochs; "
          f"training took {dt:.2f} s", flush=True)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    import fastmlp

    print(f"fastmlp {fastmlp.__version__}")
    print(f"SIMD target: {fastmlp.simd_target()} (available: {', '.join(fastmlp.available_targets())})")
    print(f"OpenMP: {'yes' if fastmlp.openmp_enabled() else 'no'}; threads: {fastmlp.max_threads()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fastmlp", description="Fast perceptrons and MLPs on the CPU.",
                                epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command")
    t = sub.add_parser("train", help="train a network and report its test accuracy")
    t.add_argument("--dataset", default="digits", help="dataset name (default: digits)")
    t.add_argument("--layers", default=None, help="widths, e.g. 64-64-10")
    t.add_argument("--activation", default="relu")
    t.add_argument("--optimizer", default="sgd")
    t.add_argument("--lr", type=float, default=0.1)
    t.add_argument("--momentum", type=float, default=0.9)
    t.add_argument("--epochs", type=int, default=20)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--threads", type=int, default=None)
    t.add_argument("--seed", type=int, default=0)
    t.set_defaults(func=cmd_train)
    i = sub.add_parser("info", help="show the build: version, SIMD path, OpenMP, threads")
    i.set_defaults(func=cmd_info)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["train", *([] if argv is None else argv)])
    try:
        return int(args.func(args))
    except UserError as exc:
        print(f"fastmlp: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fastmlp: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
