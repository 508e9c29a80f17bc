"""Every example in a public docstring runs and prints what it says (on the installed package)."""

import doctest
import importlib
import importlib.util

import pytest

pytest.importorskip("matplotlib")  # skdistill.display's examples draw

MODULES = [
    "skdistill._classifier",
    "skdistill._ensemble",
    "skdistill._pruning",
    "skdistill.losses",
    "skdistill.teachers",
    "skdistill.students._mlp",
    "skdistill.students._torch",
    "skdistill.students._soft_regression",
    "skdistill.students._soft_boosting",
    "skdistill.augment",
    "skdistill.metrics",
    "skdistill.display",
    pytest.param(
        "skdistill.dask", marks=pytest.mark.skipif(not importlib.util.find_spec("distributed"), reason="the dask extra")
    ),
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0, f"{name} has no docstring examples"
    assert result.failed == 0
