"""Public docstrings follow numpydoc (checked with numpydoc.validate), as scikit-learn's do."""

import importlib
import importlib.util
import inspect

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

import skdistill  # noqa: E402
import skdistill.augment  # noqa: E402
import skdistill.display  # noqa: E402
import skdistill.losses  # noqa: E402
import skdistill.metrics  # noqa: E402

# Checks scikit-learn's own docstrings do not meet either: no "See Also" or extended summary on
# every object, "name : type" return lines, and undescribed obvious parameters such as X.
IGNORED = {"SA01", "ES01", "RT02", "RT03", "PR07"}


def public_objects():
    modules = [(skdistill, [n for n in skdistill.__all__ if n != "__version__"])]
    modules += [(m, m.__all__) for m in (skdistill.augment, skdistill.display, skdistill.losses, skdistill.metrics)]
    if importlib.util.find_spec("distributed") is not None:  # the optional dask extra
        dask_module = importlib.import_module("skdistill.dask")
        modules.append((dask_module, dask_module.__all__))
    for module, names in modules:
        for name in names:
            obj = getattr(module, name)
            path = f"{module.__name__}.{name}"
            yield path, True
            if inspect.isclass(obj):
                for member, value in vars(obj).items():
                    if not member.startswith("_") and callable(value):
                        yield f"{path}.{member}", False


@pytest.mark.parametrize("path, top_level", list(public_objects()), ids=lambda v: v if isinstance(v, str) else "")
def test_docstring_is_valid_numpydoc(path, top_level):
    ignored = IGNORED if top_level else IGNORED | {"EX01"}  # every class and function has an example
    errors = [
        f"{code}: {message}" for code, message in numpydoc_validate.validate(path)["errors"] if code not in ignored
    ]
    assert not errors, "\n".join(errors)
