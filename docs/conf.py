"""Sphinx configuration: ``sphinx-build docs docs/_build`` (needs ``pip install ".[docs]"``)."""

import skdistill

project = "skdistill"
release = skdistill.__version__
version = release
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
]
autosummary_generate = True
numpydoc_show_class_members = False
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable/", None),
    "sklearn": ("https://scikit-learn.org/stable/", None),
    "torch": ("https://pytorch.org/docs/stable/", None),
}
html_theme = "pydata_sphinx_theme"
exclude_patterns = ["_build"]
