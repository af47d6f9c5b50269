#!/usr/bin/env bash
# Docs job: build the Sphinx site (docs/ -> docs/_build/html) with every warning an error.
# Needs fastmlp importable (installed, or an in-place build on PYTHONPATH) and the docs
# extra: pip install ".[docs]".  Runs from docs/, so that the source folder fastmlp/ of
# the checkout does not shadow the installed package.  Exits non-zero on any warning.
set -euo pipefail
cd "$(dirname "$0")/../docs"
rm -rf _build generated
start=$SECONDS
python -m sphinx -W --keep-going -q -b html . _build/html
echo "docs.sh: built docs/_build/html in $((SECONDS - start)) s with no warnings"
