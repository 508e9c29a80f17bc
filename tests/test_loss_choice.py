"""DistilledClassifier(loss=...): "kl", "mse" (logit matching) and a callable, for neural and classical students."""

import numpy as np
import pytest
import torch
from scipy.special import log_softmax
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.tree import DecisionTreeClassifier

from conftest import make_teacher_module
from skdistill import DistilledClassifier, MLPStudent
from skdistill.losses import KLDistillationLoss, LogitMatchingLoss, as_loss, per_sample_distillation_loss


def small_mlp(**params):
    return MLPStudent(**{"hidden_layer_sizes": (32,), "max_iter": 150, "learning_rate_init": 0.01, "random_state": 0, **params})


@pytest.mark.parametrize("alpha", [0.0, 0.4])
def test_mse_loss_matches_its_formula(alpha):
    rng = np.random.RandomState(0)
    s, t = rng.normal(size=(6, 4)) * 2, rng.normal(size=(6, 4)) * 2 + 5.0  # a shifted teacher: centring removes it
    y = np.array([0, 1, 2, 3, -1, 2])
    labelled = (y >= 0).astype(float)
    loss = LogitMatchingLoss(T=3.0, alpha=alpha)
    term = loss.teacher_term(t, dtype=torch.float64, device="cpu")
    got = loss.per_sample(torch.tensor(s), term, torch.tensor(y), torch.tensor(labelled)).numpy()
    centred = lambda a: a - a.mean(axis=1, keepdims=True)  # noqa: E731
    mse = ((centred(s) - centred(t)) ** 2).mean(axis=1)
    ce = -log_softmax(s, axis=1)[np.arange(6), np.maximum(y, 0)]
    row_alpha = alpha * labelled
    np.testing.assert_allclose(got, (1 - row_alpha) * mse + row_alpha * ce, rtol=1e-12)


def test_mse_gradient_pulls_student_logits_to_the_teachers():
    t = torch.tensor([[2.0, 0.0, -1.0]], dtype=torch.float64)
    s = torch.zeros(1, 3, dtype=torch.float64, requires_grad=True)
    loss = LogitMatchingLoss(T=1.0, alpha=0.0)
    loss.per_sample(s, loss.teacher_term(t.numpy(), dtype=torch.float64, device="cpu"), None, None).sum().backward()
    centred_teacher = t - t.mean()
    np.testing.assert_allclose(s.grad.numpy(), (-2.0 / 3.0 * centred_teacher).numpy(), rtol=1e-12)


def test_neural_student_distils_with_each_loss(data):
    X, y = data
    teacher = make_teacher_module()
    fidelity = {}
    for loss in ("kl", "mse"):
        clf = DistilledClassifier(teacher, small_mlp(), T=2.0, alpha=0.0, loss=loss).fit(X, y)
        fidelity[loss] = clf.fidelity(X)
        assert clf.route_ == "native"
    assert min(fidelity.values()) > 0.8, fidelity


def test_callable_loss_reaches_the_student_and_can_reproduce_kl(data):
    X, y = data
    teacher = make_teacher_module()
    calls = []

    def my_kl(student_logits, teacher_logits, y, *, T, alpha):
        calls.append((tuple(student_logits.shape), tuple(teacher_logits.shape), T, alpha))
        teacher_log_probs = torch.log_softmax(teacher_logits / T, dim=1)
        return per_sample_distillation_loss(student_logits, teacher_log_probs, y, T=T, alpha=alpha)

    own = DistilledClassifier(teacher, small_mlp(max_iter=20), T=2.0, alpha=0.3, loss=my_kl).fit(X, y)
    builtin = DistilledClassifier(teacher, small_mlp(max_iter=20), T=2.0, alpha=0.3).fit(X, y)
    assert calls and calls[0][1][1] == 3 and calls[0][2:] == (2.0, 0.3)
    # The same objective, computed through other operations: equal up to float32 round-off over 20 epochs.
    np.testing.assert_allclose(own.predict_proba(X), builtin.predict_proba(X), atol=1e-3)


def test_callable_loss_of_the_wrong_shape_is_named(data):
    X, y = data

    def mean_only(student_logits, teacher_logits, y, *, T, alpha):
        return (student_logits - teacher_logits).square().mean()

    with pytest.raises(ValueError, match=r"The loss mean_only must return a tensor of shape \(n_samples,\)"):
        DistilledClassifier(make_teacher_module(), small_mlp(max_iter=2), loss=mean_only).fit(X, y)


def test_mse_maps_a_regressor_student_to_logit_regression(data):
    X, y = data
    clf = DistilledClassifier(make_teacher_module(), Ridge(), T=1.0, alpha=0.0, loss="mse").fit(X, y)
    assert clf.route_ == "regression_logits"
    assert clf.fidelity(X) > 0.7


@pytest.mark.parametrize("student", [LogisticRegression(), DecisionTreeClassifier()])
def test_mse_and_callables_refuse_classical_students_before_the_teacher_runs(data, student):
    X, y = data

    class Exploding(torch.nn.Module):
        def forward(self, x):
            raise AssertionError("the teacher must not run")

    with pytest.raises(ValueError, match="loss='mse' cannot train the student .*regression_logits"):
        DistilledClassifier(Exploding(), student, loss="mse").fit(X, y)
    with pytest.raises(ValueError, match="only a neural student"):
        DistilledClassifier(Exploding(), student, loss=lambda s, t, y, *, T, alpha: s.sum(dim=1)).fit(X, y)
    with pytest.raises(ValueError, match="loss='mse'.*route='tree' was asked for"):
        DistilledClassifier(Exploding(), DecisionTreeClassifier(), loss="mse", route="tree").fit(X, y)


def test_loss_is_grid_searchable_and_validated(data):
    X, y = data
    search = GridSearchCV(
        DistilledClassifier(make_teacher_module(), small_mlp(max_iter=30)), {"loss": ["kl", "mse"]}, cv=2
    ).fit(X, y)
    assert search.best_params_["loss"] in ("kl", "mse")
    with pytest.raises(ValueError, match="'loss' parameter"):
        DistilledClassifier(make_teacher_module(), loss="hinge").fit(X, y)
    assert isinstance(as_loss("kl", 2.0, 0.1), KLDistillationLoss)


def test_mse_floors_the_logits_of_zero_probabilities():
    """A forest's probability of 0 is a logit of about -708; logit matching floors it 13.8 below the row's top."""
    loss = LogitMatchingLoss(T=1.0, alpha=0.0)
    teacher = np.log(np.maximum([[0.7, 0.3, 0.0]], np.finfo(float).tiny))
    term = loss.teacher_term(teacher, dtype=torch.float64, device="cpu").numpy()[0]
    floored = np.array([np.log(0.7), np.log(0.3), np.log(0.7) - np.log(1e6)])
    np.testing.assert_allclose(term, floored - floored.mean(), rtol=1e-12)


def test_callable_loss_of_the_wrong_signature_is_refused_before_the_teacher_runs(data):
    from conftest import CountingModule

    X, y = data
    counting = CountingModule(make_teacher_module())

    def no_keywords(student_logits, teacher_logits, y):
        return student_logits.sum(dim=1)

    with pytest.raises(TypeError, match=r"loss no_keywords must be callable as loss\(student_logits, teacher_logits, y, \*, T, alpha\)"):
        DistilledClassifier(counting, small_mlp(max_iter=2), loss=no_keywords).fit(X, y)
    assert counting.rows_scored == 0


def test_a_loss_that_gives_nan_stops_training_with_a_clear_error(data):
    X, y = data

    def nan_loss(student_logits, teacher_logits, y, *, T, alpha):
        return student_logits.sum(dim=1) * float("nan")

    clf = DistilledClassifier(make_teacher_module(), small_mlp(max_iter=3), loss=nan_loss)
    with pytest.raises(ValueError, match="training loss became nan"):
        clf.fit(X, y)
    assert not hasattr(clf, "student_")
