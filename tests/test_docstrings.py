"""Run the Examples sections of every public module's docstrings (the installed package)."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import fastmlp

MODULES = sorted(m.name for m in pkgutil.walk_packages(fastmlp.__path__, "fastmlp.")
                 if not m.name.split(".")[-1].startswith("_"))


#: modules that need an optional extra, and the package that extra provides
OPTIONAL = {"fastmlp.sklearn": "sklearn"}


def _import(name):
    if name in OPTIONAL:
        pytest.importorskip(OPTIONAL[name], reason=f"{name} needs the optional {OPTIONAL[name]}")
    return importlib.import_module(name)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    mod = _import(name)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest example(s) failed in {name}"


def test_some_examples_exist():
    total = 0
    for name in MODULES:
        if name in OPTIONAL:
            continue
        finder = doctest.DocTestFinder()
        total += sum(len(t.examples) for t in finder.find(importlib.import_module(name)))
    assert total >= 3
