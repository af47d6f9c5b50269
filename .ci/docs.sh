#!/usr/bin/env bash
# Docs job: build the Sphinx site (docs/ -> docs/_build/html) with every warning an error.
# Installs the build tools of pyproject.toml's `docs` extra (not the package itself:
# fastmlp must already be importable, installed or as an in-place build on PYTHONPATH).
# Sphinx runs from docs/, so the source folder fastmlp/ of the checkout cannot shadow the
# installed package.  Exits non-zero on any warning.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
mapfile -t reqs < <(python - <<'PY'
import re
text = open("pyproject.toml", encoding="utf-8").read()
block = re.search(r"^docs = \[(.*?)\]", text, re.M | re.S).group(1)
print("\n".join(re.findall(r'"([^"]+)"', block)))
PY
)
PIP_ROOT_USER_ACTION=ignore python -m pip install -q --disable-pip-version-check "${reqs[@]}"
cd docs
rm -rf _build generated
python -m sphinx -W --keep-going -q -b html . _build/html
echo "docs.sh: built docs/_build/html in $((SECONDS - start)) s with no warnings"
