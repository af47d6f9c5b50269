"""Datasets for fastmlp: an embedded digits set, IDX readers and toy generators.

This module depends on NumPy, tqdm and the standard library only, so it can be
imported on its own.

Contents
--------
Embedded data
    :func:`load_digits` -- the UCI 8x8 handwritten digits (1797 samples),
    shipped inside the package.
IDX data (MNIST family)
    :func:`load_mnist`, :func:`load_fashion_mnist` -- the original IDX files,
    gzipped or not, looked up locally and optionally downloaded and verified;
    :func:`read_idx` -- a strict reader for any IDX file;
    :func:`get_cache_dir` -- the per-user cache directory.
Toy generators
    :func:`make_separable`, :func:`make_xor`, :func:`make_spirals`,
    :func:`make_sine`.

Where the MNIST files are looked for
------------------------------------
1. the ``path`` argument (the directory itself, then its ``mnist/`` or
   ``fashion-mnist/`` subfolder);
2. ``$FASTMLP_DATA/mnist`` (or ``fashion-mnist``), then ``$FASTMLP_DATA``;
3. the cache: ``$XDG_CACHE_HOME/fastmlp/mnist`` (or ``fashion-mnist``), with
   ``~/.cache`` when ``XDG_CACHE_HOME`` is unset.

Each split is a pair of files, ``{train,t10k}-images-idx3-ubyte`` and
``{train,t10k}-labels-idx1-ubyte``, each either gzipped (``.gz``) or not.
"""
from __future__ import annotations

from fastmlp.datasets._common import Bunch
from fastmlp.datasets.embedded import load_digits
from fastmlp.datasets.idx import (
                                  FASHION_MNIST_CLASSES,
                                  DownloadError,
                                  get_cache_dir,
                                  load_fashion_mnist,
                                  load_mnist,
                                  read_idx,
)
from fastmlp.datasets.toys import make_separable, make_sine, make_spirals, make_xor

__all__ = [
    "FASHION_MNIST_CLASSES",
    "Bunch",
    "DownloadError",
    "get_cache_dir",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "make_separable",
    "make_sine",
    "make_spirals",
    "make_xor",
    "read_idx",
]
