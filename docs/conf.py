"""Sphinx configuration of fastmlp's documentation (built by ``.ci/docs.sh``).

Sphinx with numpydoc, because fastmlp's docstrings are numpydoc already (the
form NumPy, SciPy and scikit-learn use), autodoc/autosummary turn them into the
API reference, and every piece installs from PyPI (``pip install ".[docs]"``)
and builds offline.  The user guide is Markdown (MyST), so the notes kept as
Markdown in ``docs/`` (performance, architecture, reliability) are pages of the
site as they are.
"""
from __future__ import annotations

import os
import re

import fastmlp

project = "fastmlp"
author = "the fastmlp developers"
copyright = "the fastmlp developers"  # noqa: A001 (Sphinx's name)
release = fastmlp.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "demos"]
DOCS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(DOCS)
#: the notes other parts of the project keep in docs/; each becomes a page when present
NOTES = [name for name in ("performance", "ARCHITECTURE", "RELIABILITY")
         if os.path.exists(os.path.join(DOCS, name + ".md"))]

# --- API reference ----------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"          # numpydoc's Parameters sections carry the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False  # autosummary lists them
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# --- Markdown ---------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
#: a skipped heading level in a note is a matter of style, not a broken page
suppress_warnings = ["myst.header"]

# --- no network: intersphinx only from local inventories (none by default) ---
intersphinx_mapping: dict = {}

html_theme = "alabaster"
html_title = f"fastmlp {release}"
html_static_path: list = []
html_theme_options = {"description": "Fast perceptrons and MLPs on the CPU",
                      "fixed_sidebar": True}


def _notes_toctree(app, docname, source):
    """Fill the ``NOTES`` marker of index.md with the notes that exist."""
    if docname == "index":
        entries = "\n".join(NOTES)
        source[0] = source[0].replace("<!-- NOTES -->", entries)


_LINK = re.compile(r"(?<!!)\[([^\]\n]+)\]\(([^)\s#]+)(#[^)\s]*)?\)")


def _repo_links(app, docname, source):
    """Links from a Markdown page to files of the repository outside the site (``csrc/``,
    ``tests/``...) read well on GitHub but are no page here: they become the path in
    code, so that only links to missing files or pages warn."""
    if not app.env.doc2path(docname).suffix == ".md":
        return
    here = os.path.dirname(app.env.doc2path(docname))

    def plain(m):
        target = m.group(2)
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            return m.group(0)  # a URL (or a MyST scheme)
        path = os.path.normpath(os.path.join(here, target))
        in_site = path.startswith(DOCS + os.sep) and path.endswith((".md", ".rst"))
        if in_site or not os.path.exists(path) or not path.startswith(ROOT + os.sep):
            return m.group(0)
        rel = os.path.relpath(path, ROOT)
        text = m.group(1)
        return text if text.strip("`") == rel else f"{text} (``{rel}``)"

    source[0] = _LINK.sub(plain, source[0])


def _skip_member(app, what, name, obj, skip, options):
    """Leave out the ``set_*_request`` methods scikit-learn generates on estimators
    (metadata routing): scikit-learn documents them, and their docstrings refer
    to its own glossary."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("source-read", _notes_toctree)
    app.connect("source-read", _repo_links)
    app.connect("autodoc-skip-member", _skip_member)
