"""The float64 inference copy of a neural student's module: reused while the module is unchanged, made
again after any change, never used for modules of user-defined classes."""

import copy

import numpy as np
import pytest
import torch

from skdistill import MLPStudent, TorchStudent


def exact(module, X):
    """The module's float64 output, computed on a fresh float64 copy."""
    fresh = copy.deepcopy(module).double().eval()
    with torch.inference_mode():
        return torch.softmax(fresh(torch.as_tensor(X, dtype=torch.float64)), dim=1).numpy()


@pytest.fixture
def fitted(data):
    X, y = data
    net = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.LeakyReLU(0.1), torch.nn.Linear(16, 3))
    return TorchStudent(net, max_iter=5, random_state=0).fit(X, y), X


def test_the_copy_is_reused_while_the_module_is_unchanged(fitted):
    student, X = fitted
    first = student.predict_proba(X[:1])
    kept = student._inference_copy["copy"]
    np.testing.assert_array_equal(student.predict_proba(X[:1]), first)
    assert student._inference_copy["copy"] is kept
    np.testing.assert_allclose(student.predict_proba(X), exact(student.module_, X), rtol=1e-12)


def change_data_in_place(module):
    module[0].weight.data[0, 0] += 1.0  # through .data: no version counter sees it


def load_other_weights(module):
    other = copy.deepcopy(module)
    with torch.no_grad():
        other[2].bias[0] += 0.5  # one class only: a constant added to every logit would not show
    module.load_state_dict(other.state_dict())


def swap_a_layer(module):
    module[1] = torch.nn.Tanh()


def change_a_hyperparameter(module):
    module[1].negative_slope = 0.5


def add_a_forward_hook(module):
    module[2].register_forward_hook(lambda layer, inputs, output: output * 2.0)


def replace_a_parameter(module):
    module[2].weight = torch.nn.Parameter(module[2].weight.detach() * 3.0)


@pytest.mark.parametrize(
    "change",
    [change_data_in_place, load_other_weights, swap_a_layer, change_a_hyperparameter, add_a_forward_hook, replace_a_parameter],
)
def test_any_change_to_the_module_is_seen(fitted, change):
    student, X = fitted
    before = student.predict_proba(X)
    change(student.module_)
    after = student.predict_proba(X)
    assert not np.allclose(after, before)
    np.testing.assert_allclose(after, exact(student.module_, X), rtol=1e-12)


def test_a_partial_fit_step_is_seen(data):
    X, y = data
    student = MLPStudent(hidden_layer_sizes=(8,), random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    before = student.predict_proba(X)
    student.partial_fit(X, y)
    np.testing.assert_allclose(student.predict_proba(X), exact(student.module_, X), rtol=1e-12)
    assert not np.allclose(student.predict_proba(X), before)


class OwnLayer(torch.nn.Module):
    """A user-defined class: state the check cannot see (a Python list it reads) is possible."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(6, 3)
        self.scales = [1.0]

    def forward(self, x):
        return self.linear(x) * self.scales[0]


def test_modules_of_user_classes_take_the_exact_path_every_time(data):
    X, y = data
    student = TorchStudent(OwnLayer(), max_iter=3, random_state=0).fit(X, y)
    before = student.predict_proba(X)
    assert student._inference_copy.get("copy") is None
    student.module_.scales[0] = 3.0  # invisible to any check: so no copy is ever kept for such modules
    after = student.predict_proba(X)
    assert not np.allclose(after, before)
    np.testing.assert_allclose(after, exact(student.module_, X), rtol=1e-12)


def test_the_copy_is_not_pickled(fitted):
    import pickle

    student, X = fitted
    student.predict_proba(X[:1])
    loaded = pickle.loads(pickle.dumps(student))
    assert loaded._inference_copy == {}
    np.testing.assert_array_equal(loaded.predict_proba(X), student.predict_proba(X))
