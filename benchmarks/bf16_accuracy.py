"""bf16 mixed-precision training against float32 on the MNIST demos' recipes.

Trains each recipe (:data:`fastmlp.cli.demos.SPEC_MNIST`, 784-16-16-10, and
:data:`~fastmlp.cli.demos.SPEC_800`, 784-800-10) twice from the same seed and
budget -- ``compute_dtype`` float32 and bfloat16 -- and prints both test accuracies
on MNIST's 10,000 test images (docs/performance.md, "bf16 mixed-precision
training").  Run from the repository root::

    python -m benchmarks.bf16_accuracy --data ../shared/data [--specs mnist,800] [--seed 0]
"""
from __future__ import annotations

import argparse
import sys
import time

from fastmlp import MLP
from fastmlp.cli import demos


def train(spec: demos.TrainSpec, Xtr, ytr, compute_dtype: str, seed: int,
          threads: int | None) -> tuple:
    """The demo's training (demos._fit_spec without the per-epoch validation) in one
    compute dtype; returns (model, seconds)."""
    net = MLP(list(spec.layers), activation=spec.activation, loss=spec.loss,
              output_activation=spec.output_activation, seed=seed, n_threads=threads,
              dropout=spec.dropout, input_noise=spec.input_noise, init="auto",
              compute_dtype=compute_dtype)
    kw = {"momentum": spec.momentum} if spec.optimizer == "sgd" else {}
    t0 = time.perf_counter()
    for e, lr in spec.schedule:
        net.fit(Xtr, ytr, epochs=e, batch_size=spec.batch_size, learning_rate=lr,
                optimizer=spec.optimizer, l2=spec.l2, verbose=0, **kw)
    return net, time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=None, help="folder holding mnist/ (default: the cache)")
    ap.add_argument("--specs", default="mnist,800", help="mnist (784-16-16-10), 800, or both")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--epochs", type=int, default=None, help="cut each recipe to this many epochs")
    args = ap.parse_args(argv)
    Xtr, ytr, Xte, yte = demos._load_image_set("mnist", args.data, None, None)
    specs = {"mnist": demos.SPEC_MNIST, "800": demos.SPEC_800}
    for name in [s.strip() for s in args.specs.split(",") if s.strip()]:
        spec = specs[name]
        if args.epochs:
            spec = spec.with_epochs(args.epochs)
        acc = {}
        for cd in ("float32", "bfloat16"):
            net, secs = train(spec, Xtr, ytr, cd, args.seed, args.threads)
            acc[cd] = net.score(Xte, yte)
            print(f"{'-'.join(map(str, spec.layers))} {spec.epochs} epochs seed {args.seed} "
                  f"{cd:>8}: test accuracy {acc[cd]:.2%} ({secs:.0f} s)", flush=True)
        print(f"  bf16 - float32: {100 * (acc['bfloat16'] - acc['float32']):+.2f} points",
              flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
