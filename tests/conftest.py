"""Tiny data, teachers and students shared by the tests: each test fits in well under a second."""

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification

from skdistill import clear_teacher_cache

N_FEATURES = 6
N_CLASSES = 3


@pytest.fixture
def data():
    """(X, y): 150 rows, 6 float32 features, 3 classes."""
    X, y = make_classification(
        n_samples=150,
        n_features=N_FEATURES,
        n_informative=4,
        n_redundant=0,
        n_classes=N_CLASSES,
        random_state=0,
    )
    return X.astype(np.float32), y


def make_teacher_module(n_features=N_FEATURES, n_classes=N_CLASSES, seed=0):
    """A small untrained torch network: deterministic weights, random-looking but fixed logits."""
    generator = torch.Generator().manual_seed(seed)
    module = torch.nn.Sequential(torch.nn.Linear(n_features, 16), torch.nn.ReLU(), torch.nn.Linear(16, n_classes))
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator))
    return module


@pytest.fixture
def teacher_module():
    return make_teacher_module()


class CountingModule(torch.nn.Module):
    """Wraps a module and records the size of every batch it is asked to score."""

    def __init__(self, module):
        super().__init__()
        self.module = module
        self.batch_sizes = []

    def forward(self, x):
        self.batch_sizes.append(x.shape[0])
        return self.module(x)

    @property
    def rows_scored(self):
        return sum(self.batch_sizes)


def snapshot(module):
    """Everything about a module that a fit must leave as it was: weights, training and requires_grad flags."""
    return (
        {name: tensor.clone() for name, tensor in module.state_dict().items()},
        [m.training for m in module.modules()],
        [p.requires_grad for p in module.parameters()],
    )


def assert_unchanged(module, before):
    state, training, requires_grad = snapshot(module)
    assert state.keys() == before[0].keys()
    for name in state:
        assert torch.equal(state[name], before[0][name]), name
    assert training == before[1]
    assert requires_grad == before[2]


@pytest.fixture(autouse=True)
def empty_teacher_cache():
    """Each test starts with an empty in-process teacher-output cache, so counts never leak between tests."""
    clear_teacher_cache()
    yield
    clear_teacher_cache()
