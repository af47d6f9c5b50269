"""The source layout has no dependency circles: csrc/ includes and fastmlp/ imports.

C: every ``#include "..."`` in csrc/ is resolved as the compiler does (the
including file's folder, then csrc/, the one include path).  Two graphs must be
acyclic: the files themselves, and the *modules*, where a module is a file
family sharing a folder and a stem (``rank1.h``, ``rank1.c``, ``rank1_impl.h``,
``rank1_avx2.c`` ... are the module ``train/fast/rank1``), so that a header
and the source implementing it count as one node and a circle through a .c
file (``team.c -> fm_internal.h -> team.h``) shows.

Python: the imports of fastmlp/ modules, resolved to module names.  Imports
that run when a module is imported (its top level) must form no circle.
Imports anywhere (inside functions too, which only defer a circle) are held to
the same rule in a second test.
"""
from __future__ import annotations

import ast
import pathlib
import re

REPO = pathlib.Path(__file__).resolve().parent.parent
CSRC = REPO / "csrc"
PKG = REPO / "fastmlp"

_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)
# suffixes that make a file part of its stem's family (per-ISA instances,
# dtype-templated bodies, the SIMD vocabulary of a family)
_FAMILY = ("_impl", "_avx2", "_avx512", "_generic", "_ref", "_simd", "_vocab",
           "_f32", "_f64", "_end")


# ---- cycle search -------------------------------------------------------------

def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one cycle of `graph` (node -> successors) as a node list, or None."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_find_cycle_finds_and_clears():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


# ---- C ----------------------------------------------------------------------------

def c_files() -> list[pathlib.Path]:
    return sorted(p for p in CSRC.rglob("*") if p.suffix in (".c", ".h"))


def resolve_include(src: pathlib.Path, name: str) -> pathlib.Path | None:
    for base in (src.parent, CSRC):
        cand = (base / name).resolve()
        if cand.is_file():
            return cand
    return None


def include_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for src in c_files():
        rel = src.relative_to(CSRC).as_posix()
        graph[rel] = set()
        for name in _INCLUDE.findall(src.read_text(encoding="utf-8")):
            target = resolve_include(src, name)
            assert target is not None, f"{rel}: #include \"{name}\" is not in csrc/"
            graph[rel].add(target.relative_to(CSRC).as_posix())
    return graph


def module_of(rel: str) -> str:
    path = pathlib.PurePosixPath(rel)
    stem = path.stem
    changed = True
    while changed:
        changed = False
        for sfx in _FAMILY:
            if stem.endswith(sfx) and len(stem) > len(sfx):
                stem = stem[: -len(sfx)]
                changed = True
    return (path.parent / stem).as_posix()


def test_module_of_groups_families():
    assert module_of("train/fast/rank1_avx512.c") == "train/fast/rank1"
    assert module_of("train/fast/rank1_impl.h") == "train/fast/rank1"
    assert module_of("gemm/gemm_simd_vocab.h") == "gemm/gemm"
    assert module_of("core/fm_dtype_f32.h") == "core/fm_dtype"
    assert module_of("core/team.c") == module_of("core/team.h")


def test_includes_resolve_from_csrc():
    """Every include is written as a path from csrc/ (the one include dir)."""
    for src in c_files():
        for name in _INCLUDE.findall(src.read_text(encoding="utf-8")):
            assert (CSRC / name).is_file(), f"{src.relative_to(CSRC)}: \"{name}\" is not a path from csrc/"


def test_c_files_include_no_circle():
    assert find_cycle(include_graph()) is None


def test_c_modules_depend_without_circle():
    graph: dict[str, set[str]] = {}
    for src, targets in include_graph().items():
        mod = module_of(src)
        graph.setdefault(mod, set()).update(module_of(t) for t in targets if module_of(t) != mod)
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def _code(src: pathlib.Path) -> str:
    """The C text without its comments."""
    text = re.sub(r"/\*.*?\*/", " ", src.read_text(encoding="utf-8"), flags=re.DOTALL)
    return re.sub(r"//[^\n]*", " ", text)


def test_isa_is_chosen_only_by_the_kernel_table():
    """One dispatch mechanism: CPU probing in core/cpu.c, the choice in core/dispatch.c.

    No other source probes the CPU, asks for the active target's name, or names an
    ISA in code, except the per-ISA instance files themselves (*_avx2.c, *_avx512.c).
    """
    table = {"core/cpu.c", "core/cpu.h", "core/dispatch.c"}
    for src in c_files():
        rel = src.relative_to(CSRC).as_posix()
        code = _code(src)
        if rel in table:
            continue
        for probe in ("fm_cpu_has_", "__builtin_cpu_supports", "cpuid", "xgetbv"):
            assert probe not in code, f"{rel} uses {probe}: only core/cpu.c and core/dispatch.c choose an ISA"
        assert not re.search(r"fm_simd_target\(\s*\)", code), f"{rel} asks for the target's name"
        if src.suffix == ".c" and not rel.endswith(("_avx2.c", "_avx512.c")):
            isa = re.findall(r"\b\w*(?:avx2|avx512)\w*\b", code)
            assert not isa, f"{rel} names an ISA in code ({isa[:3]}): call through core/kernels.h"


# ---- Python --------------------------------------------------------------------

def py_modules() -> dict[str, pathlib.Path]:
    mods = {}
    # .pyx: compiled modules (fastmlp._core) are imported like the others
    for path in sorted(list(PKG.rglob("*.py")) + list(PKG.rglob("*.pyx"))):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        mods[".".join(parts)] = path
    return mods


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.Module, top_level: bool):
    """Import statements run at import time (top_level) or anywhere, minus TYPE_CHECKING."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node):
            todo.extend(node.orelse)
        elif top_level and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        elif top_level and isinstance(node, ast.ClassDef):
            todo.extend(node.body)  # a class body runs at import; its methods do not
        else:
            todo.extend(ast.iter_child_nodes(node))


def import_graph(top_level: bool) -> dict[str, set[str]]:
    mods = py_modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        if path.suffix != ".py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _import_nodes(tree, top_level):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                # `from pkg import sub` imports the submodule when there is one
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base
                         for a in node.names]
            for name in names:
                if name in mods and name != mod:
                    graph[mod].add(name)
    return graph


def test_import_graph_sees_imports():
    graph = import_graph(top_level=True)
    assert "fastmlp.mlp" in graph["fastmlp"], "fastmlp/__init__.py imports the MLP"


def test_fastmlp_top_level_imports_no_circle():
    cycle = find_cycle(import_graph(top_level=True))
    assert cycle is None, " -> ".join(cycle)


def test_fastmlp_deferred_imports_no_circle():
    """Imports inside functions count too: they only defer a circle."""
    cycle = find_cycle(import_graph(top_level=False))
    assert cycle is None, " -> ".join(cycle)
