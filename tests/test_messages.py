"""Error messages say what is true: extras that exist, and the real cause of a failed forward pass."""

import builtins
import re
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch

from skdistill._torch_utils import batched_forward

ROOT = Path(__file__).resolve().parents[1]


def _extras():
    return set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])


def test_every_extra_a_message_or_doc_names_exists():
    # skdistill.display told users to install "skdistill[plot]", an extra that did not exist.
    files = [*ROOT.joinpath("skdistill").rglob("*.py"), ROOT / "README.md", *ROOT.joinpath("docs").glob("*.rst")]
    named = {}
    for path in files:
        for extra in re.findall(r"skdistill\[([a-z0-9_,-]+)\]", path.read_text()):
            for name in extra.split(","):
                named.setdefault(name, path.name)
    assert named, "the pattern no longer finds the extras the messages name"
    missing = {name: where for name, where in named.items() if name not in _extras()}
    assert not missing, f"extras named but not defined in pyproject.toml: {missing}"


def test_display_without_matplotlib_names_an_existing_extra(monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    from skdistill import display

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    for module in [m for m in sys.modules if m.startswith("matplotlib")]:
        monkeypatch.delitem(sys.modules, module)
    with pytest.raises(ImportError, match=r"skdistill\[plot\]") as info:
        display._pyplot()
    assert "plot" in _extras()
    assert "matplotlib" in str(info.value)


class _Raising(torch.nn.Module):
    def __init__(self, error):
        super().__init__()
        self.error = error
        self.linear = torch.nn.Linear(3, 2)

    def forward(self, x):
        raise self.error


def _forward(module, n_features=3):
    X = np.zeros((4, n_features), dtype=np.float32)
    return batched_forward(module, X, batch_size=2, device=torch.device("cpu"), dtype=torch.float32, who="The teacher")


def test_a_wrong_width_is_reported_as_one():
    with pytest.raises(ValueError, match="with 5 features; check that it takes 5 inputs"):
        _forward(torch.nn.Linear(3, 2), n_features=5)


@pytest.mark.parametrize(
    "error, expected_type, expected",
    [
        (torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), MemoryError, "ran out of memory"),
        (RuntimeError("DefaultCPUAllocator: not enough memory: you tried to allocate 80000000000 bytes. out of memory"),
         MemoryError, "batch size"),
        (RuntimeError("Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!"),
         ValueError, "another device"),
        (RuntimeError("something else went wrong"), RuntimeError, "raised an error in its forward pass"),
    ],
)
def test_other_forward_errors_are_not_reported_as_a_wrong_width(error, expected_type, expected):
    # batched_forward reported every RuntimeError (out of memory, devices) as a wrong input width.
    with pytest.raises(expected_type, match=expected) as info:
        _forward(_Raising(error))
    assert "features" not in str(info.value)
    assert info.value.__cause__ is error
