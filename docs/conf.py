"""Sphinx configuration: ``sphinx-build -W --keep-going -b html docs docs/_build/html`` (the ``docs`` extra)."""

import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

import sb3_pg  # noqa: E402

project = "sb3-pg"
author = "sb3-pg maintainers"
copyright = "2026, sb3-pg maintainers"
release = version = sb3_pg.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx_autodoc_typehints",
    "sphinx_copybutton",
    "myst_parser",
    "cli_reference",  # docs/_ext/cli_reference.py: the command-line reference from the parsers
]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []

html_theme = "sphinx_rtd_theme"
html_static_path = ["_static"]
html_title = f"sb3-pg {release}"

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"show-inheritance": True}
typehints_fully_qualified = False
always_document_param_types = False
napoleon_google_docstring = False
napoleon_numpy_docstring = False
# SB3's and sb3-contrib's own members (inherited-members) carry their docstrings in their own style
# SB3's type hints name classes sphinx-autodoc-typehints cannot import where they are written
suppress_warnings = ["myst.header", "sphinx_autodoc_typehints.forward_reference"]
nitpicky = False

INVENTORIES = {
    "python": "https://docs.python.org/3",
    "sb3": "https://stable-baselines3.readthedocs.io/en/master/",
    "sb3_contrib": "https://sb3-contrib.readthedocs.io/en/master/",
    "gymnasium": "https://gymnasium.farama.org/",
    "optuna": "https://optuna.readthedocs.io/en/stable/",
    "torch": "https://pytorch.org/docs/stable/",
    "numpy": "https://numpy.org/doc/stable/",
}


def _reachable(url: str) -> bool:
    """Whether the inventory's host answers: a build without network links to the other projects' docs
    as plain text instead of failing (``-W`` makes an unreachable inventory an error)."""
    host = url.split("/")[2]
    try:
        socket.create_connection((host, 443), timeout=2).close()
    except OSError:
        return False
    return True


intersphinx_mapping = {name: (url, None) for name, url in INVENTORIES.items() if _reachable(url)}
intersphinx_timeout = 10
