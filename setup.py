"""Build fastmlp's compiled core: one extension, fastmlp._core.

Only the extension is configured here; all metadata lives in pyproject.toml.

Flags
-----
* unix compilers: ``-O3 -std=c11 -fno-math-errno -fopenmp-simd`` (the kernels
  never read ``errno``; without it gcc will not vectorise a loop calling
  ``sqrt``; ``-fopenmp-simd`` honours ``omp simd`` reductions, see
  csrc/core/fm_internal.h, with or without OpenMP); never
  ``-ffast-math`` (NaN/inf checks and
  parity depend on IEEE arithmetic) and no ``-march=native`` unless asked
  for with ``FASTMLP_MARCH=native``.
* OpenMP from a table, ``FASTMLP_OPENMP=probe|0|gomp|omp|msvc`` (default
  probe): when the probe fails the build goes on without OpenMP and says so
  loudly; ``fastmlp.openmp_enabled()`` reports the result.
* Per-file ISA flags: a source named ``*_avx2.c`` is compiled with AVX2+FMA
  and one named ``*_avx512.c`` with AVX-512 (x86-64 only); everything else
  with the baseline flags, so one wheel runs on any x86-64 CPU and the
  kernel table (csrc/core/dispatch.c) picks the path at import.
* ``FASTMLP_DEBUG=1``: ``-O0 -g -UNDEBUG`` and Cython bounds checks;
  ``FASTMLP_SANITIZE=1``: address and undefined-behaviour sanitizers.
"""
from __future__ import annotations

import glob
import os
import platform
import sys
import tempfile
import textwrap

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
DEBUG = os.environ.get("FASTMLP_DEBUG", "") not in ("", "0")
SANITIZE = os.environ.get("FASTMLP_SANITIZE", "") not in ("", "0")
IS_X86_64 = platform.machine().lower() in ("x86_64", "amd64")

OPENMP_FLAGS = {
    "gomp": (["-fopenmp"], ["-fopenmp"]),
    "omp": (["-Xpreprocessor", "-fopenmp"], ["-lomp"]),
    "msvc": (["/openmp"], []),
}
ISA_FLAGS_UNIX = {
    "_avx2.c": ["-mavx2", "-mfma"],
    "_avx512.c": ["-mavx512f", "-mavx512dq", "-mavx512vl", "-mavx512bw", "-mfma"],
}
ISA_FLAGS_MSVC = {"_avx2.c": ["/arch:AVX2"], "_avx512.c": ["/arch:AVX512"]}


def _c_sources() -> list[str]:
    srcs = sorted(glob.glob("csrc/**/*.c", recursive=True))
    if not IS_X86_64:
        srcs = [s for s in srcs if not s.endswith(("_avx2.c", "_avx512.c"))]
    return srcs


def _probe_openmp(compiler, cflags: list[str], ldflags: list[str]) -> bool:
    code = "#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n"
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "omp_probe.c")
        with open(src, "w") as f:
            f.write(code)
        try:
            objs = compiler.compile([src], output_dir=tmp, extra_postargs=cflags)
            compiler.link_executable(objs, "omp_probe", output_dir=tmp, extra_postargs=ldflags)
        except Exception:  # noqa: BLE001 - any failure means "no OpenMP"
            return False
    return True


def _loud(msg: str) -> None:
    line = "*" * 76
    body = "\n".join("* " + s.ljust(72) + " *" for s in textwrap.wrap(msg, 72))
    print(f"\n{line}\n{body}\n{line}\n", file=sys.stderr)


class BuildExt(build_ext):
    """Pick flags by compiler type, probe OpenMP, add per-file ISA flags."""

    def build_extensions(self) -> None:
        ctype = self.compiler.compiler_type
        if ctype == "unix":
            base = ["-std=c11", "-Wall", "-Wno-unused-function", "-fno-math-errno",
                    "-fopenmp-simd"]
            base += ["-O0", "-g", "-UNDEBUG"] if DEBUG else ["-O3"]
            if os.environ.get("FASTMLP_MARCH"):
                base.append("-march=" + os.environ["FASTMLP_MARCH"])
            link: list[str] = []
            if SANITIZE:
                base += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
                link += ["-fsanitize=address,undefined"]
            isa = ISA_FLAGS_UNIX
            default_omp = "gomp"
        elif ctype == "msvc":
            base, link, isa, default_omp = ["/O2"], [], ISA_FLAGS_MSVC, "msvc"
        else:
            raise RuntimeError(
                f"fastmlp: unsupported compiler type {ctype!r}; use gcc, clang or MSVC"
            )
        choice = os.environ.get("FASTMLP_OPENMP", "probe").lower()
        omp_c: list[str] = []
        omp_l: list[str] = []
        if choice in ("0", "off", "no"):
            _loud("fastmlp: OpenMP disabled by FASTMLP_OPENMP=0; kernels run on one thread.")
        else:
            key = default_omp if choice == "probe" else choice
            if key not in OPENMP_FLAGS:
                raise RuntimeError(f"fastmlp: FASTMLP_OPENMP={choice!r}; expected probe|0|gomp|omp|msvc")
            omp_c, omp_l = OPENMP_FLAGS[key]
            if ctype != "msvc" and not _probe_openmp(self.compiler, omp_c, omp_l):
                _loud(
                    "fastmlp: WARNING: the compiler cannot build OpenMP programs "
                    f"(flags {omp_c} {omp_l}). Building WITHOUT OpenMP: every kernel runs "
                    "on one thread. Install your compiler's OpenMP runtime (libgomp, libomp) "
                    "and rebuild to use several cores."
                )
                omp_c, omp_l = [], []
        print(f"fastmlp: compiler={ctype} cflags={base + omp_c} ldflags={link + omp_l}")
        for ext in self.extensions:
            ext.extra_compile_args = base + omp_c
            ext.extra_link_args = link + omp_l
        self._add_isa_flags(isa)
        super().build_extensions()

    def _add_isa_flags(self, table: dict[str, list[str]]) -> None:
        orig = getattr(self.compiler, "_compile", None)
        if orig is None:  # MSVC compiles all at once; per-file flags unsupported there
            return

        def _compile(obj, src, ext, cc_args, extra_postargs, pp_opts):  # noqa: ANN001
            extra = list(extra_postargs)
            for suffix, flags in table.items():
                if src.endswith(suffix):
                    extra += flags
            return orig(obj, src, ext, cc_args, extra, pp_opts)

        self.compiler._compile = _compile


directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": False,
    "initializedcheck": DEBUG,
    "cdivision": True,
    "embedsignature": True,
}

ext = Extension(
    "fastmlp._core",
    sources=["fastmlp/_core.pyx", *_c_sources()],
    # headers and *_impl.h bodies: editing one must rebuild the extension
    depends=sorted(glob.glob("csrc/**/*.h", recursive=True)),
    include_dirs=[np.get_include(), "csrc"],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_25_API_VERSION")],
)

setup(
    ext_modules=cythonize([ext], compiler_directives=directives),
    cmdclass={"build_ext": BuildExt},
)
