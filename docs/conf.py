"""Sphinx configuration: ``sphinx-build -W docs docs/_build`` (needs ``pip install ".[docs]"``).

Set ``SKDISTILL_DOCS_OFFLINE=1`` to build without internet: intersphinx links to scikit-learn, numpy
and PyTorch then stay plain text instead of failing the strict (``-W``) build.
"""

import os

import skdistill

project = "skdistill"
release = skdistill.__version__
version = release
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
templates_path = ["_templates"]
autosummary_generate = True
numpydoc_show_class_members = False
intersphinx_mapping = (
    {}
    if os.environ.get("SKDISTILL_DOCS_OFFLINE")
    else {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable/", None),
        "sklearn": ("https://scikit-learn.org/stable/", None),
        "torch": ("https://pytorch.org/docs/stable/", None),
    }
)
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "doc_module": ("skdistill",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skdistill": None},
    "abort_on_example_error": True,
}
html_theme = "pydata_sphinx_theme"
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
