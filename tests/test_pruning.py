"""prune_student: smaller layers, the input left alone, fidelity won back by fine-tuning, early refusals."""

import copy
import itertools
import pickle
import warnings

import numpy as np
import pytest
import torch
from conftest import N_FEATURES, CountingModule, assert_unchanged, make_teacher_module, snapshot
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split

from skdistill import DistilledClassifier, DistilledRegressor, MLPStudent, TorchStudent, prune_student

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def n_parameters(module):
    return sum(parameter.numel() for parameter in module.parameters())


def stack(n_features=N_FEATURES, hidden=(32, 16), n_outputs=3, *, between=torch.nn.ReLU):
    widths = [n_features, *hidden, n_outputs]
    layers = []
    for fan_in, fan_out in itertools.pairwise(widths):
        layers += [torch.nn.Linear(fan_in, fan_out), between()]
    return torch.nn.Sequential(*layers[:-1])


@pytest.fixture
def fitted(data, teacher_module):
    X, y = data
    student = MLPStudent((32, 16), max_iter=20, learning_rate_init=0.01, random_state=0)
    return DistilledClassifier(teacher_module, student, T=2.0, alpha=0.1).fit(X, y)


def test_layers_are_physically_smaller(fitted, data):
    X, y = data
    pruned = prune_student(fitted, X, y, keep=0.5, max_iter=2)
    # 6 -> 32 -> 16 -> 3 becomes 6 -> 16 -> 8 -> 3: new Linear layers, no masks, hooks or extra buffers.
    assert n_parameters(fitted.student_.module_) == 6 * 32 + 32 + 32 * 16 + 16 + 16 * 3 + 3 == 803
    assert n_parameters(pruned.student_.module_) == 6 * 16 + 16 + 16 * 8 + 8 + 8 * 3 + 3 == 275
    linear = [layer for layer in pruned.student_.module_ if isinstance(layer, torch.nn.Linear)]
    assert [(layer.in_features, layer.out_features) for layer in linear] == [(6, 16), (16, 8), (8, 3)]
    assert [tuple(layer.weight.shape) for layer in linear] == [(16, 6), (8, 16), (3, 8)]
    assert not list(pruned.student_.module_.buffers())
    assert pruned.student_.hidden_layer_sizes == (16, 8)
    assert pruned.student_.n_iter_ == 2
    assert pruned.predict_proba(X).shape == (len(X), 3)


@pytest.mark.parametrize("keep, widths", [(1.0, (32, 16)), (0.75, (24, 12)), (0.25, (8, 4)), (0.01, (1, 1))])
def test_keep_rounds_to_the_nearest_width_and_keeps_a_unit(fitted, data, keep, widths):
    X, y = data
    assert prune_student(fitted, X, y, keep=keep, max_iter=1).student_.hidden_layer_sizes == widths


def test_the_input_estimator_is_unchanged(fitted, data):
    X, y = data
    student, module = fitted.student_, fitted.student_.module_
    before, attributes = snapshot(module), dict(fitted.__dict__)
    proba = fitted.predict_proba(X)
    pruned = prune_student(fitted, X, y, keep=0.5, max_iter=3)
    assert fitted.student_ is student and fitted.student_.module_ is module
    assert_unchanged(module, before)
    assert student.hidden_layer_sizes == (32, 16) and student.n_iter_ == 20
    assert fitted.__dict__.keys() == attributes.keys()
    assert all(fitted.__dict__[name] is value for name, value in attributes.items())
    np.testing.assert_array_equal(fitted.predict_proba(X), proba)
    # The copy shares the teacher (read only) and the parameters, not the student.
    assert pruned is not fitted and pruned.student_ is not student
    assert pruned.teacher_ is fitted.teacher_ and pruned.get_params() == fitted.get_params()


def _fidelity_one_seed(seed):
    X, y = make_classification(600, 10, n_informative=6, n_redundant=0, n_classes=3, random_state=seed)
    X_train, X_test, y_train, _ = train_test_split(X.astype(np.float32), y, test_size=200, random_state=seed)
    teacher = MLPStudent((64, 64), max_iter=60, learning_rate_init=0.01, random_state=seed).fit(X_train, y_train)
    with torch.random.fork_rng():  # the template's initial weights, independent of the tests run before
        torch.manual_seed(seed)
        template = stack(10, (32, 32))
    student = TorchStudent(template, max_iter=80, learning_rate_init=0.01, random_state=seed)
    clf = DistilledClassifier(teacher.module_, student, T=4.0, alpha=0.1).fit(X_train, y_train)
    pruned = prune_student(clf, X_train, y_train, keep=0.5, max_iter=30)
    # A TorchStudent's template is the pruned network before fine-tuning: pruning alone.
    with torch.inference_mode():
        without_fine_tuning = pruned.student_.module(torch.as_tensor(X_test)).argmax(dim=1).numpy()
    return clf.fidelity(X_test), np.mean(without_fine_tuning == teacher.predict(X_test)), pruned.fidelity(X_test)


def test_fine_tuning_wins_back_the_fidelity_pruning_cost():
    # Measured on 5 seeds: unpruned 0.875-0.955, pruned alone 0.550-0.780, pruned and fine-tuned
    # within 0.02 of unpruned.
    unpruned, pruned_only, fine_tuned = np.array([_fidelity_one_seed(seed) for seed in range(3)]).T
    assert fine_tuned.mean() >= unpruned.mean() - 0.04
    assert (fine_tuned >= pruned_only + 0.1).all()


def test_predictions_do_not_depend_on_the_batch(fitted, data):
    X, y = data
    pruned = prune_student(fitted, X, y, keep=0.5, max_iter=3)
    whole = pruned.predict_proba(X)
    assert whole.dtype == np.float64
    for batch_size in (1, 7):
        for start in range(0, len(X), batch_size):
            part = pruned.predict_proba(X[start : start + batch_size])
            np.testing.assert_allclose(part, whole[start : start + batch_size], rtol=1e-12, atol=1e-14)


def test_pickle_round_trip(fitted, data):
    X, y = data
    pruned = prune_student(fitted, X, y, keep=0.5, max_iter=3)
    loaded = pickle.loads(pickle.dumps(pruned))
    np.testing.assert_array_equal(loaded.predict_proba(X), pruned.predict_proba(X))
    assert n_parameters(loaded.student_.module_) == 275
    assert loaded.fidelity(X) == pruned.fidelity(X)


def test_same_student_seed_same_pruned_model(fitted, data):
    X, y = data
    first, second = (prune_student(fitted, X, y, keep=0.5, max_iter=3) for _ in range(2))
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


def test_torch_student_with_dropout_and_tanh(data, teacher_module):
    X, y = data
    template = stack(between=torch.nn.Tanh)
    template.insert(2, torch.nn.Dropout(0.2))  # Linear, Tanh, Dropout, Linear, Tanh, Linear
    before = snapshot(template)
    student = TorchStudent(template, max_iter=5, random_state=0)
    clf = DistilledClassifier(teacher_module, student).fit(X, y)
    pruned = prune_student(clf, X, y, keep=0.25, max_iter=3)
    kinds = [type(layer) for layer in pruned.student_.module_]
    assert kinds == [torch.nn.Linear, torch.nn.Tanh, torch.nn.Dropout, torch.nn.Linear, torch.nn.Tanh, torch.nn.Linear]
    assert n_parameters(pruned.student_.module_) == 6 * 8 + 8 + 8 * 4 + 4 + 4 * 3 + 3
    # The template a refit starts from has the pruned shape; the user's template is untouched.
    assert n_parameters(pruned.student_.module) == n_parameters(pruned.student_.module_)
    assert_unchanged(template, before)
    assert not pruned.student_.module_.training


def test_without_labels_the_student_learns_the_teacher_alone(fitted, data):
    X, y = data
    assert fitted.alpha > 0
    unlabelled = prune_student(fitted, X, keep=0.5, max_iter=5)
    assert unlabelled.alpha == fitted.alpha  # the copy's parameters are the input's
    pure_distillation = copy.copy(fitted)
    pure_distillation.alpha = 0.0
    labelled = prune_student(pure_distillation, X, y, keep=0.5, max_iter=5)
    np.testing.assert_array_equal(unlabelled.predict_proba(X), labelled.predict_proba(X))
    assert not np.array_equal(
        prune_student(fitted, X, y, keep=0.5, max_iter=5).predict_proba(X), labelled.predict_proba(X)
    )


def test_regression_student():
    X, y = make_regression(n_samples=150, n_features=N_FEATURES, noise=1.0, random_state=0)
    X, y = X.astype(np.float32), (y - y.mean()) / y.std()
    student = MLPStudent((32, 16), max_iter=60, learning_rate_init=0.01, random_state=0)
    reg = DistilledRegressor(Ridge(), student, alpha=0.2).fit(X, y)
    for labels in (y, None):
        pruned = prune_student(reg, X, labels, keep=0.5, max_iter=30)
        assert pruned.student_.hidden_layer_sizes == (16, 8)
        assert pruned.predict(X).shape == (len(X),)
        assert pruned.fidelity(X) > 0.8


# -- Refused before any work -------------------------------------------------------------------------------


class NotAStack(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden, self.out = torch.nn.Linear(N_FEATURES, 8), torch.nn.Linear(8, 3)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x)))


def _distilled(student, data, teacher_module, **params):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return DistilledClassifier(teacher_module, student, **params).fit(X, y)


@pytest.mark.parametrize(
    "student, error, match",
    [
        (LogisticRegression(), TypeError, "neural student .* is a LogisticRegression, which has none"),
        (TorchStudent(NotAStack(), max_iter=1), TypeError, "torch.nn.Sequential .* module is a NotAStack"),
        (
            TorchStudent(torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 3))),
            TypeError,
            "layer 1 of the student's Sequential is a BatchNorm1d",
        ),
        (MLPStudent((), max_iter=1), ValueError, "1 Linear layer.* no hidden layer"),
    ],
    ids=["classical", "not-sequential", "batch-norm", "no-hidden-layer"],
)
def test_students_that_cannot_be_pruned(student, error, match, data, teacher_module):
    X, y = data
    clf = _distilled(student, data, teacher_module)
    with pytest.raises(error, match=match):
        prune_student(clf, X, y)


def test_unfitted_estimator(data, teacher_module):
    X, y = data
    with pytest.raises(NotFittedError, match="not fitted"):
        prune_student(DistilledClassifier(teacher_module, MLPStudent()), X, y)


def test_not_a_distiller(data):
    X, y = data
    with pytest.raises(TypeError, match="DistilledClassifier or DistilledRegressor; got MLPStudent"):
        prune_student(MLPStudent(max_iter=1).fit(X, y), X, y)


def test_teacher_left_behind(data, teacher_module):
    X, y = data
    clf = _distilled(MLPStudent((8,), max_iter=1), data, teacher_module, keep_teacher=False)
    with pytest.raises(ValueError, match="keep_teacher=False and left its teacher behind"):
        prune_student(clf, X, y)


@pytest.mark.parametrize("keep", [0, -0.5, 1.5, True, "half"])
def test_keep_outside_zero_one(fitted, data, keep):
    X, y = data
    with pytest.raises(ValueError, match=r"keep is the fraction .* in \(0, 1\]; got"):
        prune_student(fitted, X, y, keep=keep)


@pytest.mark.parametrize("max_iter", [0, 2.5, None])
def test_bad_max_iter(fitted, data, max_iter):
    X, y = data
    with pytest.raises(ValueError, match="max_iter is the number of epochs of fine-tuning"):
        prune_student(fitted, X, y, max_iter=max_iter)


def test_x_of_the_wrong_width(fitted, data):
    X, y = data
    with pytest.raises(ValueError, match=f"X has 5 features, but DistilledClassifier is expecting {N_FEATURES}"):
        prune_student(fitted, X[:, :5], y)


def test_labels_the_teacher_does_not_score(fitted, data):
    X, y = data
    with pytest.raises(ValueError, match="7"):
        prune_student(fitted, X, np.where(y == 0, 7, y))


def test_refusals_come_before_the_teacher_runs(data):
    X, y = data
    teacher = CountingModule(make_teacher_module())
    clf = _distilled(MLPStudent((8,), max_iter=1, random_state=0), data, teacher, memory=False)
    scored = teacher.rows_scored
    for bad in ({"keep": 2.0}, {"max_iter": 0}, {"X": X[:, :5]}):
        with pytest.raises(ValueError):
            prune_student(clf, **{"X": X, "y": y, **bad})
    assert teacher.rows_scored == scored
