"""Accuracy of quantised inference on MNIST: the demos' networks, float32 against int8
(dynamic and calibrated) and bfloat16, on the 10,000 test images.

    python -m benchmarks.quant_accuracy [--data DIR] [--epochs 5]

The networks are the demos' (fastmlp/cli/demos.py: SPEC_MNIST 784-16-16-10 and SPEC_800
784-800-10, with their optimizer, momentum, batch size, L2, dropout and input noise),
trained with a modest budget: their first learning-rate phase cut to ``--epochs`` epochs.
Prints one Markdown table (accuracy, change in points, predictions unchanged).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import fastmlp
import fastmlp.datasets
from fastmlp.cli import demos


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=None, help="folder holding mnist/ (default: the search path)")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    Xtr, ytr = fastmlp.datasets.load_mnist(args.data, "train", as_float=True)
    Xte, yte = fastmlp.datasets.load_mnist(args.data, "test", as_float=True)
    print("| network | model | test accuracy | change (points) | predictions unchanged |")
    print("|---|---|---|---|---|")
    for spec in (demos.SPEC_MNIST, demos.SPEC_800):
        lr = spec.schedule[0][1]
        net = fastmlp.MLP(list(spec.layers), activation=spec.activation, loss=spec.loss,
                          seed=args.seed, dropout=spec.dropout, input_noise=spec.input_noise,
                          init="auto")
        kw = {"momentum": spec.momentum} if spec.optimizer == "sgd" else {}
        t0 = time.perf_counter()
        net.fit(Xtr, ytr, epochs=args.epochs, batch_size=spec.batch_size, learning_rate=lr,
                optimizer=spec.optimizer, l2=spec.l2, verbose=0, **kw)
        name = "-".join(map(str, spec.layers))
        base = net.predict(Xte)
        acc = float(np.mean(base == yte))
        print(f"| {name} ({args.epochs} epochs, {time.perf_counter() - t0:.0f} s) | float32 "
              f"| {acc:.2%} | | |")
        for label, q in (("int8 (per row)", net.quantize("int8")),
                         ("int8 (calibrated, 2,000 rows)",
                          net.quantize("int8", X_calibration=Xtr[:2000])),
                         ("bfloat16", net.quantize("bfloat16"))):
            pred = q.predict(Xte)
            qa = float(np.mean(pred == yte))
            print(f"| {name} | {label} | {qa:.2%} | {100 * (qa - acc):+.2f} "
                  f"| {np.mean(pred == base):.2%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
