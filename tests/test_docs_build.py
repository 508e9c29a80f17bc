"""The documentation builds with warnings as errors, running every gallery example."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"

for module in ("sphinx", "sphinx_gallery", "pydata_sphinx_theme", "numpydoc"):
    pytest.importorskip(module)


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(tmp_path / "html")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        # Offline: no intersphinx inventories to fetch (this machine, like CI, reaches only PyPI).
        env={**os.environ, "SKDISTILL_DOCS_OFFLINE": "1", "MPLBACKEND": "Agg"},
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    built = tmp_path / "html"
    for page in ("index", "getting_started", "user_guide", "scaling", "api", "changelog", "auto_examples/index"):
        assert (built / f"{page}.html").exists(), page
    gallery = sorted(p.name for p in (built / "auto_examples").glob("plot_*.html"))
    examples = sorted(p.with_suffix(".html").name for p in (DOCS.parent / "examples").glob("plot_*.py"))
    assert gallery == examples
