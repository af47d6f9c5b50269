"""fastmlp's OpenMP wait policy (fastmlp/_omp_policy.py): passive by default,
the user's setting when given, and the environment left as the user gave it."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import fastmlp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(fastmlp.__file__)))

PROBE = (
    "import os, fastmlp\n"
    "from fastmlp import _omp_policy\n"
    "print(_omp_policy.wait_policy())\n"
    "print(os.environ.get('OMP_WAIT_POLICY', '<unset>'))\n"
)


def _run(extra_env: dict[str, str]) -> list[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(extra_env)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    # cwd=ROOT: `python -c` puts the working directory first on sys.path, so the
    # child imports the same fastmlp as this test (installed or in place)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, timeout=600, check=True, cwd=ROOT)
    return out.stdout.strip().splitlines()


def test_passive_by_default_and_environment_restored():
    policy, seen = _run({})
    assert policy == "passive (fastmlp's default)"
    assert seen == "<unset>"  # libraries loaded later see the user's environment


@pytest.mark.parametrize("var, value", [("OMP_WAIT_POLICY", "active"),
                                        ("GOMP_SPINCOUNT", "1000")])
def test_the_users_setting_wins(var, value):
    policy, seen = _run({var: value})
    assert policy == f"{var}={value} (yours)"
    assert seen == (value if var == "OMP_WAIT_POLICY" else "<unset>")


def test_info_prints_the_policy():
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-m", "fastmlp", "info"], env=env,
                         capture_output=True, text=True, timeout=600, check=True, cwd=ROOT)
    assert "wait policy: passive (fastmlp's default)" in out.stdout
