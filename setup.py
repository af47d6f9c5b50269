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
* Release builds carry no debug information (``-g0``, after Python's own
  ``-g``) and are stripped at link on Linux (``-s``); ``FASTMLP_DEBUG=1``:
  ``-O0 -g -UNDEBUG`` and Cython bounds checks; ``FASTMLP_SANITIZE=1``:
  address and undefined-behaviour sanitizers (with ``-g``, unstripped).
* OpenMP named explicitly (``FASTMLP_OPENMP=gomp|omp``) must work: the build
  fails rather than fall back, so a wheel job cannot ship a one-thread wheel
  by accident.  ``probe`` falls back, loudly.
* The C files compile in parallel (unix compilers): ``build_ext -j N``, else
  ``FASTMLP_BUILD_JOBS`` or ``MAX_JOBS``, else one job per available CPU.
"""
from __future__ import annotations

import glob
import os
import platform
import shlex
import sys
import tempfile
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import setuptools
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# pyproject.toml's license fields (PEP 639) need setuptools 77; an older one (a
# venv's bundled setuptools under --no-build-isolation) fails with a long schema dump
if int(setuptools.__version__.split(".")[0]) < 77:
    sys.exit(f"fastmlp: building needs setuptools>=77 (this is {setuptools.__version__}): "
             "pip install -U 'setuptools>=77', or build without --no-build-isolation")

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
            # LDFLAGS reach the extension's link (LDSHARED) but not link_executable's:
            # add them, so a runtime found through LDFLAGS (Homebrew's libomp) is found here
            env_ld = shlex.split(os.environ.get("LDFLAGS", ""))
            compiler.link_executable(objs, "omp_probe", output_dir=tmp,
                                     extra_postargs=env_ld + ldflags)
        except Exception:  # noqa: BLE001 - any failure means "no OpenMP"
            return False
    return True


def _build_jobs(parallel: object) -> int:
    """Compile jobs: ``-j N`` (``parallel``), FASTMLP_BUILD_JOBS, MAX_JOBS, or the CPUs."""
    if isinstance(parallel, int) and not isinstance(parallel, bool) and parallel > 0:
        return parallel
    for var in ("FASTMLP_BUILD_JOBS", "MAX_JOBS"):
        value = os.environ.get(var, "").strip()
        if value:
            if not value.isdigit() or int(value) < 1:
                raise RuntimeError(f"fastmlp: {var}={value!r}; expected a positive integer")
            return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _compile_in_parallel(compiler, jobs: int) -> None:
    """Make ``compiler.compile`` run its per-object ``_compile`` calls on ``jobs`` threads.

    The same steps as distutils' ``CCompiler.compile`` (setup, then one
    ``_compile`` per object), with the objects spread over a thread pool, the
    largest sources first so that the long ones do not start last.  Each
    ``_compile`` spawns its own compiler process, so threads suffice.
    """
    def compile(sources, output_dir=None, macros=None, include_dirs=None, debug=0,  # noqa: A001
                extra_preargs=None, extra_postargs=None, depends=None):
        macros, objects, extra_postargs, pp_opts, build = compiler._setup_compile(
            output_dir, macros, include_dirs, sources, depends, extra_postargs)
        cc_args = compiler._get_cc_args(pp_opts, debug, extra_preargs)
        order = sorted(objects, key=lambda o: -os.path.getsize(build[o][0]))
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(compiler._compile, obj, build[obj][0], build[obj][1],
                                   cc_args, extra_postargs, pp_opts) for obj in order]
        for f in futures:  # every compile has ended; report the first failure
            f.result()
        return objects

    compiler.compile = compile


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
                base += ["-g", "-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
                link += ["-fsanitize=address,undefined"]
            elif not DEBUG:
                # no debug info (Python's CFLAGS carry -g): the .so 6.9 MB -> 1.2 MB
                base.append("-g0")
                if sys.platform.startswith("linux"):
                    link.append("-s")  # and no symbol table beyond what the loader needs
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
                if choice != "probe":
                    raise RuntimeError(
                        f"fastmlp: FASTMLP_OPENMP={choice} but the compiler cannot build an "
                        f"OpenMP program with {omp_c} {omp_l}; install the OpenMP runtime "
                        "or set FASTMLP_OPENMP=0 to build without threads"
                    )
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
        if ctype == "unix":  # MSVC's compile() does not go through _compile: serial there
            jobs = _build_jobs(self.parallel)
            print(f"fastmlp: compiling with {jobs} parallel job(s)")
            _compile_in_parallel(self.compiler, jobs)
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
