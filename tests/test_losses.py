"""The distillation loss against its formula, computed independently in numpy."""

import numpy as np
import pytest
import torch
from scipy.special import log_softmax, softmax

from skdistill.losses import distillation_loss


def numpy_loss(s, t, y, T, alpha, w=None):
    """alpha * CE(y, s) + (1 - alpha) * T**2 * KL(softmax(t/T) || softmax(s/T)), row by row."""
    p = softmax(t / T, axis=1)
    kl = (p * (np.log(p) - log_softmax(s / T, axis=1))).sum(axis=1)
    ce = -log_softmax(s, axis=1)[np.arange(len(y)), y]
    per_row = alpha * ce + (1 - alpha) * T**2 * kl
    return np.average(per_row, weights=w)


@pytest.fixture
def logits():
    rng = np.random.RandomState(0)
    return rng.normal(size=(7, 4)) * 3, rng.normal(size=(7, 4)) * 3, rng.randint(0, 4, size=7)


@pytest.mark.parametrize("T", [0.5, 1.0, 4.0])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_loss_matches_formula(logits, T, alpha):
    s, t, y = logits
    w = np.linspace(0.5, 2.0, len(y))
    for weights in (None, w):
        loss = distillation_loss(
            torch.tensor(s),
            torch.tensor(t),
            torch.tensor(y),
            T=T,
            alpha=alpha,
            sample_weight=None if weights is None else torch.tensor(weights),
        )
        assert float(loss) == pytest.approx(numpy_loss(s, t, y, T, alpha, weights), rel=1e-10)


def test_gradient_is_the_textbook_one(logits):
    # d/ds of the mean loss = [alpha (softmax(s) - onehot) + (1 - alpha) T (softmax(s/T) - softmax(t/T))] / n
    s, t, y = logits
    T, alpha = 3.0, 0.25
    student = torch.tensor(s, requires_grad=True)
    distillation_loss(student, torch.tensor(t), torch.tensor(y), T=T, alpha=alpha).backward()
    onehot = np.eye(4)[y]
    expected = alpha * (softmax(s, axis=1) - onehot) + (1 - alpha) * T * (
        softmax(s / T, axis=1) - softmax(t / T, axis=1)
    )
    np.testing.assert_allclose(student.grad.numpy(), expected / len(y), rtol=1e-10, atol=1e-12)


def test_no_gradient_flows_into_the_teacher(logits):
    s, t, y = logits
    teacher = torch.tensor(t, requires_grad=True)
    student = torch.tensor(s, requires_grad=True)
    distillation_loss(student, teacher, torch.tensor(y), T=2.0, alpha=0.5).backward()
    assert teacher.grad is None
    assert student.grad is not None


def test_alpha_zero_needs_no_labels_and_is_zero_at_the_teacher(logits):
    _, t, _ = logits
    assert float(distillation_loss(torch.tensor(t), torch.tensor(t), T=2.0, alpha=0.0)) == 0.0
    assert float(distillation_loss(torch.tensor(t) + 1.0, torch.tensor(t), T=2.0, alpha=0.0)) < 1e-12


def test_reductions(logits):
    s, t, y = map(torch.tensor, logits)
    per_row = distillation_loss(s, t, y, T=2.0, alpha=0.5, reduction="none")
    assert per_row.shape == (7,)
    assert float(distillation_loss(s, t, y, T=2.0, alpha=0.5, reduction="sum")) == pytest.approx(float(per_row.sum()))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"T": 0.0}, "T must be > 0"),
        ({"alpha": 1.5}, r"alpha must be in \[0, 1\]"),
        ({"alpha": 0.5, "y": None}, "y is required"),
        ({"reduction": "max"}, "reduction must be"),
    ],
)
def test_bad_arguments(logits, kwargs, message):
    s, t, y = map(torch.tensor, logits)
    arguments = {"y": y, "T": 1.0, "alpha": 0.5, **kwargs}
    with pytest.raises(ValueError, match=message):
        distillation_loss(s, t, arguments.pop("y"), **arguments)


def test_shape_mismatch_is_named(logits):
    s, t, y = map(torch.tensor, logits)
    with pytest.raises(ValueError, match=r"student_logits has shape \(7, 3\) but teacher_logits has shape \(7, 4\)"):
        distillation_loss(s[:, :3], t, y, T=1.0, alpha=0.5)


@pytest.mark.parametrize("alpha", [0.0, 0.4, 1.0])
@pytest.mark.parametrize("T", [1.0, 3.0])
def test_hand_written_backward_passes_gradcheck(logits, alpha, T):
    s, t, y = logits
    student = torch.tensor(s, requires_grad=True)
    weights = torch.linspace(0.5, 2.0, len(y), dtype=torch.float64)

    def loss(student_logits):
        return distillation_loss(
            student_logits, torch.tensor(t), torch.tensor(y), T=T, alpha=alpha, sample_weight=weights, reduction="none"
        )

    assert torch.autograd.gradcheck(loss, (student,), eps=1e-6, atol=1e-7)


def test_unlabelled_rows_take_the_teacher_term_only(logits):
    s, t, y = logits
    y_partial = y.copy()
    y_partial[[1, 4]] = -1
    T, alpha = 2.0, 0.3
    per_row = distillation_loss(
        torch.tensor(s), torch.tensor(t), torch.tensor(y_partial), T=T, alpha=alpha, reduction="none"
    ).numpy()
    labelled = y_partial >= 0
    expected_labelled = [numpy_loss(s[[i]], t[[i]], y[[i]], T, alpha) for i in np.flatnonzero(labelled)]
    expected_unlabelled = [numpy_loss(s[[i]], t[[i]], y[[i]], T, 0.0) for i in np.flatnonzero(~labelled)]
    np.testing.assert_allclose(per_row[labelled], expected_labelled, rtol=1e-10)
    np.testing.assert_allclose(per_row[~labelled], expected_unlabelled, rtol=1e-10)
    student = torch.tensor(s, requires_grad=True)

    def loss(student_logits):
        return distillation_loss(student_logits, torch.tensor(t), torch.tensor(y_partial), T=T, alpha=alpha)

    assert torch.autograd.gradcheck(loss, (student,), eps=1e-6, atol=1e-7)
