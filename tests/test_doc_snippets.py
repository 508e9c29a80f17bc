"""Every Python snippet in README.md and docs/*.rst runs, so that a renamed parameter, a changed default or
a wrong claim about what a call accepts breaks this test instead of a reader's first try.

Which blocks are Python
    README.md: fences opened with ```python. docs/*.rst: blocks under ``.. code-block:: python``. Nothing
    else runs: bare ``::`` literal blocks and other fences hold formulas, shell commands and printed output.
    ``test_unmarked_blocks_are_not_python`` fails on any other block that looks like Python code (it parses
    and imports, defines, loops, or passes keyword arguments), so a new snippet cannot escape by being left
    unmarked or marked ``py``.

Namespaces
    The snippets under one heading (the nearest heading: a subsection is a section of its own) run in the
    order of the page in one namespace, so a later snippet may use an earlier one's names. Each section
    starts from a fresh setup namespace holding what a reader is assumed to have already, data and models
    (``teacher``, ``X``, ``y``, ...), never imports: a snippet imports what it uses, so that it can be
    copied as it is. ``SETUPS`` names the sections that need other data than ``classification_setup``
    gives. Snippets run as a script would (``__name__ == "__main__"``), in an empty temporary directory.

Skipping
    A snippet that cannot run here (a cluster, files on disk, a GPU) is preceded in the docs by the comment
    ``.. skip-snippet: <reason>`` (rst) or ``<!-- skip-snippet: <reason> -->`` (Markdown). It is still
    compiled, then reported as skipped with its reason, and it is left out of its section's namespace.

Speed
    The setups hold about 120 rows, and a neural student that a snippet builds without ``max_iter`` trains
    for ``QUICK_MAX_ITER`` epochs instead of the default; every value a snippet writes is kept.
"""

import ast
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification, make_friedman1

from skdistill import DistilledClassifier, MLPStudent, TorchStudent

ROOT = Path(__file__).resolve().parents[1]
# The docs build writes sg_execution_times.rst into docs/ (git-ignored): not a page of ours.
_GENERATED = {"sg_execution_times.rst"}
PAGES = [ROOT / "README.md", *sorted(page for page in (ROOT / "docs").glob("*.rst") if page.name not in _GENERATED)]
QUICK_MAX_ITER = 20


# -- Extraction --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the block's first line of code
    section: str
    language: str  # "python" for snippets; "" for bare ``::`` blocks and unlabelled fences
    code: str
    skip_reason: str | None = None

    @property
    def where(self):
        return f"{self.path.relative_to(ROOT)}:{self.line}"


RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+])\1+\s*$")
RST_CODE_BLOCK = re.compile(r"^(\s*)\.\. (?:code-block|code|sourcecode)::\s*(\S*)\s*$")
RST_SKIP = re.compile(r"^\s*\.\. skip-snippet:\s*(.+?)\s*$")
MD_FENCE = re.compile(r"^(\s*)```\s*(\S*)")
MD_HEADING = re.compile(r"^#+\s+(.*?)\s*$")
MD_SKIP = re.compile(r"^\s*<!--\s*skip-snippet:\s*(.+?)\s*-->\s*$")


def _indent(line):
    return len(line) - len(line.lstrip())


def _indented_block(lines, start, parent_indent):
    """The literal block from lines[start] on, indented deeper than parent_indent: (first index, text, end index)."""
    i = start
    while i < len(lines) and lines[i].strip().startswith(":") and _indent(lines[i]) > parent_indent:
        i += 1  # directive options such as :caption:
    while i < len(lines) and not lines[i].strip():
        i += 1
    first = i
    while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > parent_indent):
        i += 1
    while i > first and not lines[i - 1].strip():
        i -= 1
    return first, textwrap.dedent("\n".join(lines[first:i])), i


def _next_nonblank(lines, start):
    return next((i for i in range(start, len(lines)) if lines[i].strip()), len(lines))


def _rst_blocks(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    section, skip_reason, i = path.name, None, 0
    while i < len(lines):
        line = lines[i]
        underline = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if line.strip() and not line.startswith(" ") and RST_UNDERLINE.match(underline) and len(underline) >= len(line):
            section, i = line.strip(), i + 2
            continue
        if match := RST_SKIP.match(line):
            reason, end = [match.group(1)], i + 1
            while end < len(lines) and lines[end].strip() and _indent(lines[end]) > _indent(line):
                reason.append(lines[end].strip())  # the comment goes on over indented lines
                end += 1
            following = RST_CODE_BLOCK.match(lines[_next_nonblank(lines, end)] if end < len(lines) else "")
            if not following or following.group(2) != "python":
                raise ValueError(f"{path.name}:{i + 1}: a skip-snippet comment must come just before a Python snippet")
            skip_reason, i = " ".join(reason), end
            continue
        if match := RST_CODE_BLOCK.match(line):
            first, code, i = _indented_block(lines, i + 1, len(match.group(1)))
            yield Block(path, first + 1, section, match.group(2), code, skip_reason)
            skip_reason = None
            continue
        if line.rstrip().endswith("::") and not line.lstrip().startswith(".. "):
            # A bare literal block: it ends at a line indented no deeper than its paragraph's text.
            start = i
            while start > 0 and lines[start - 1].strip():
                start -= 1
            bullet = re.match(r"^\s*[-*+] ", lines[start])
            first, code, i = _indented_block(lines, i + 1, _indent(lines[start]) + (2 if bullet else 0))
            yield Block(path, first + 1, section, "", code)
            continue
        i += 1


def _markdown_blocks(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    section, skip_reason, i = path.name, None, 0
    while i < len(lines):
        line = lines[i]
        if match := MD_HEADING.match(line):
            section = match.group(1)
        elif match := MD_SKIP.match(line):
            skip_reason = match.group(1)
        elif match := MD_FENCE.match(line):
            end = next(j for j in range(i + 1, len(lines)) if lines[j].strip().startswith("```"))
            code = textwrap.dedent("\n".join(lines[i + 1 : end]))
            if skip_reason and match.group(2) != "python":
                raise ValueError(f"{path.name}:{i + 1}: a skip-snippet comment must come just before a Python snippet")
            yield Block(path, i + 2, section, match.group(2), code, skip_reason)
            skip_reason, i = None, end
        elif line.strip() and skip_reason:
            raise ValueError(f"{path.name}:{i + 1}: a skip-snippet comment must come just before a Python snippet")
        i += 1


def blocks(path):
    return list(_markdown_blocks(path) if path.suffix == ".md" else _rst_blocks(path))


ALL_BLOCKS = [block for page in PAGES for block in blocks(page)]
SNIPPETS = [block for block in ALL_BLOCKS if block.language == "python"]


def _sections():
    sections = {}
    for snippet in SNIPPETS:
        if snippet.skip_reason is None:
            sections.setdefault((snippet.path.name, snippet.section), []).append(snippet)
    return sections


SECTIONS = _sections()
SKIPPED = [snippet for snippet in SNIPPETS if snippet.skip_reason is not None]


# -- Setups: what a reader of each section is assumed to have -----------------------------------------------


def classification_setup():
    """Names the classification snippets use without defining them.

    ``X``, ``y``: 120 rows, 6 float32 features, labels 0, 1, 2; ``X_new``: 5 more rows.
    ``teacher``, ``trained_module``: a trained ``torch.nn.Module`` (6-16-3) that returns logits.
    ``clf``: a ``DistilledClassifier`` fitted on them with a small ``MLPStudent``.
    ``read_chunks()``: yields ``(X_chunk, y_chunk)`` pairs of 40 rows, as a reader of a large file would.
    """
    X, y = make_classification(n_samples=125, n_features=6, n_informative=4, n_redundant=0, n_classes=3, random_state=0)
    X = X.astype(np.float32)
    X, X_new, y = X[:120], X[120:], y[:120]
    module = MLPStudent((16,), learning_rate_init=0.01, max_iter=50, random_state=0).fit(X, y).module_
    clf = DistilledClassifier(module, MLPStudent((8,), max_iter=QUICK_MAX_ITER, random_state=0), random_state=0)

    def read_chunks():
        for start in range(0, len(X), 40):
            yield X[start : start + 40], y[start : start + 40]

    return {
        "X": X,
        "y": y,
        "X_new": X_new,
        "teacher": module,
        "trained_module": module,
        "clf": clf.fit(X, y),
        "read_chunks": read_chunks,
    }


def regression_setup():
    """Names the regression snippets use without defining them.

    ``X_train``, ``y_train``: 120 rows of Friedman's function (10 features, float32); ``X_test``, ``y_test``:
    40 more. ``net``: a trained ``torch.nn.Module`` (10-16-1) that predicts ``y``, with shape ``(n, 1)``.
    """
    X, y = make_friedman1(n_samples=160, n_features=10, noise=0.5, random_state=0)
    X, y = X.astype(np.float32), y.astype(np.float32)
    X_train, X_test, y_train, y_test = X[:120], X[120:], y[:120], y[120:]
    generator = torch.Generator().manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(10, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.copy_(0.3 * torch.randn(parameter.shape, generator=generator))
    optimizer = torch.optim.Adam(net.parameters(), lr=0.03)
    inputs, targets = torch.from_numpy(X_train), torch.from_numpy(y_train)[:, None]
    for _ in range(200):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(net(inputs), targets).backward()
        optimizer.step()
    return {"X_train": X_train, "y_train": y_train, "X_test": X_test, "y_test": y_test, "net": net}


# Sections whose snippets need another setup than classification_setup, by (page, heading).
SETUPS = {
    ("user_guide.rst", "Regression: ``DistilledRegressor``"): regression_setup,
}


@pytest.fixture
def quick_neural_students(monkeypatch):
    """Neural students built without ``max_iter`` train for QUICK_MAX_ITER epochs: snippets keep their values."""
    for student_class in (MLPStudent, TorchStudent):
        monkeypatch.setitem(student_class.__init__.__kwdefaults__, "max_iter", QUICK_MAX_ITER)


@pytest.fixture
def in_empty_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


# -- Tests ---------------------------------------------------------------------------------------------------


def _compile(snippet):
    # Padding with empty lines makes tracebacks name the page and the line of the docs.
    return compile("\n" * (snippet.line - 1) + snippet.code, str(snippet.path), "exec")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("page, section", list(SECTIONS), ids=[f"{page}: {section}" for page, section in SECTIONS])
def test_snippets_run(page, section, quick_neural_students, in_empty_directory):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    namespace = {"__name__": "__main__", **SETUPS.get((page, section), classification_setup)()}
    try:
        for snippet in SECTIONS[page, section]:
            try:
                exec(_compile(snippet), namespace)
            except Exception as error:
                error.add_note(f"in the snippet at {snippet.where}")
                raise
    finally:
        plt.close("all")


@pytest.mark.parametrize("snippet", SKIPPED, ids=[snippet.where for snippet in SKIPPED])
def test_skipped_snippet_compiles(snippet):
    _compile(snippet)
    pytest.skip(f"{snippet.where}: {snippet.skip_reason}")


def _looks_like_python(code):
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    code_nodes = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.For, ast.With, ast.While)
    return any(
        isinstance(node, code_nodes) or (isinstance(node, ast.Call) and node.keywords) for node in ast.walk(tree)
    )


@pytest.mark.parametrize("path", PAGES, ids=[path.name for path in PAGES])
def test_unmarked_blocks_are_not_python(path):
    unmarked = [block.where for block in blocks(path) if block.language != "python" and _looks_like_python(block.code)]
    assert not unmarked, f"mark these blocks '.. code-block:: python' (rst) or '```python' (Markdown): {unmarked}"


def test_every_snippet_is_found_and_every_setup_is_used():
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        marked = len(re.findall(r"^\s*```python\b|^\s*\.\. code-block:: python\s*$", text, re.MULTILINE))
        assert marked == sum(snippet.path == page for snippet in SNIPPETS), page.name
    assert len(SNIPPETS) >= 10
    assert not set(SETUPS) - set(SECTIONS), "a section named in SETUPS has no snippet to run (renamed?)"
