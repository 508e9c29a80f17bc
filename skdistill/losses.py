"""Distillation losses: pure torch functions, no estimator code.

The project's loss, for student logits ``s``, teacher logits ``t`` and labels ``y``::

    alpha * CE(y, s) + (1 - alpha) * T**2 * KL(softmax(t / T) || softmax(s / T))

``T**2`` keeps the gradient of the soft term on the same scale as the hard term when ``T`` changes
(Hinton, Vinyals & Dean, 2015): the gradient of the KL term with respect to ``s`` is
``(softmax(s / T) - softmax(t / T)) / T``.
"""

import numpy as np
import torch

from ._signatures import call_refused
import torch.nn.functional as F

__all__ = ["distillation_loss", "tempered_log_softmax"]


def tempered_log_softmax(logits, T):
    """Compute ``log(softmax(logits / T))`` along the class axis.

    Parameters
    ----------
    logits : torch.Tensor of shape (n_samples, n_classes)
    T : float
        Temperature, > 0. Larger values give softer distributions.

    Returns
    -------
    torch.Tensor of shape (n_samples, n_classes)

    Examples
    --------
    >>> import torch
    >>> from skdistill.losses import tempered_log_softmax
    >>> tempered_log_softmax(torch.tensor([[2.0, 0.0]]), T=2.0).exp().round(decimals=3)
    tensor([[0.7310, 0.2690]])
    """
    return F.log_softmax(logits / T, dim=1)


def _log_softmax_rows(logits):
    """``F.log_softmax(logits, dim=1)``, taking torch's fast CPU path when there are few classes.

    On CPU, torch 2.13's log_softmax over a dimension of fewer than about 16 entries is slow: 26 us
    for a 256 x 10 batch against 5 us for the same numbers laid out along dim 0 (a transposed view,
    no copy). From about 20 classes on the direct call is the faster one.
    """
    if logits.device.type == "cpu" and logits.shape[1] < 16:
        return F.log_softmax(logits.t(), dim=0).t()
    return F.log_softmax(logits, dim=1)


class _PerSampleDistillationLoss(torch.autograd.Function):
    """The per-row loss as one autograd node, its gradient written out.

    With ``q_T = softmax(s / T)``, ``q = softmax(s)`` and ``p_T = softmax(t / T)``, the gradient of
    ``alpha * CE(y, s) + (1 - alpha) * T**2 * KL(p_T || q_T)`` with respect to ``s`` is
    ``alpha * (q - onehot(y)) + (1 - alpha) * T * (q_T - p_T)``. Computing it directly takes about
    half the small tensor operations autograd would record, which is what dominates one training
    step of a small student.
    """

    @staticmethod
    def forward(ctx, student_logits, teacher_log_probs, y, labelled, T, alpha):
        # With some rows unlabelled, each row has its own alpha: alpha if labelled, 0 if not.
        row_alpha = alpha if labelled is None else alpha * labelled
        if labelled is not None:
            y = y.clamp(min=0)  # unlabelled rows (-1) get weight 0 on the label term
        loss = torch.zeros(student_logits.shape[0], dtype=student_logits.dtype, device=student_logits.device)
        student_log_probs_T = teacher_probs = student_log_probs = None
        if alpha < 1 or labelled is not None:
            student_log_probs_T = _log_softmax_rows(student_logits / T)
            teacher_probs = teacher_log_probs.exp()
            kl = (teacher_probs * (teacher_log_probs - student_log_probs_T)).sum(dim=1)
            loss += ((1.0 - row_alpha) * T * T) * kl
        if alpha > 0:
            student_log_probs = _log_softmax_rows(student_logits)
            loss -= row_alpha * student_log_probs.gather(1, y[:, None]).squeeze(1)
        ctx.save_for_backward(student_log_probs_T, teacher_probs, student_log_probs, y, labelled)
        ctx.T, ctx.alpha = T, alpha
        return loss

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_loss):
        student_log_probs_T, teacher_probs, student_log_probs, y, labelled = ctx.saved_tensors
        T, alpha = ctx.T, ctx.alpha
        row_alpha = alpha if labelled is None else (alpha * labelled)[:, None]
        grad = None
        if student_log_probs_T is not None:
            grad = ((1.0 - row_alpha) * T) * (student_log_probs_T.exp() - teacher_probs)
        if student_log_probs is not None:
            hard = student_log_probs.exp()
            hard[torch.arange(hard.shape[0], device=hard.device), y] -= 1.0
            hard = row_alpha * hard
            grad = hard if grad is None else grad.add_(hard)
        return grad * grad_loss[:, None], None, None, None, None, None


def per_sample_distillation_loss(student_logits, teacher_log_probs, y, *, T, alpha, labelled=None):
    """The loss of each row, with the teacher's tempered log-probabilities precomputed.

    Training loops call this once per batch; computing ``teacher_log_probs`` once per fit rather than
    once per batch is what keeps distillation as cheap as ordinary training.

    Parameters
    ----------
    student_logits : torch.Tensor of shape (n_samples, n_classes)
    teacher_log_probs : torch.Tensor of shape (n_samples, n_classes) or None
        ``tempered_log_softmax(teacher_logits, T)``. ``None`` is allowed only with ``alpha=1`` and every
        row labelled.
    y : torch.Tensor of shape (n_samples,), int64, or None
        Class indices (-1 for an unlabelled row). ``None`` is allowed only with ``alpha=0``.
    T : float
    alpha : float
    labelled : torch.Tensor of shape (n_samples,), float, default=None
        1 for a labelled row, 0 for an unlabelled one, whose loss is the teacher's term alone
        (``T**2 * KL``). ``None`` when every row is labelled.

    Returns
    -------
    torch.Tensor of shape (n_samples,)
        Differentiable with respect to ``student_logits`` (once: no second derivatives).
    """
    return _PerSampleDistillationLoss.apply(student_logits, teacher_log_probs, y, labelled, float(T), float(alpha))


def distillation_loss(
    student_logits, teacher_logits, y=None, *, T=1.0, alpha=0.0, sample_weight=None, reduction="mean"
):
    """Knowledge-distillation loss of a student against a teacher and (optionally) true labels.

    ``alpha * CE(y, s) + (1 - alpha) * T**2 * KL(softmax(t / T) || softmax(s / T))``

    Parameters
    ----------
    student_logits : torch.Tensor of shape (n_samples, n_classes)
        The student's raw scores ``s``; gradients flow through them.
    teacher_logits : torch.Tensor of shape (n_samples, n_classes)
        The teacher's raw scores ``t``, columns in the same class order as the student's.
    y : torch.Tensor of shape (n_samples,), int64, default=None
        Class indices in ``[0, n_classes)``, or -1 for a row without a label (its loss is the
        teacher's term alone, ``T**2 * KL``). Required when ``alpha > 0``.
    T : float, default=1.0
        Temperature applied to both teacher and student logits in the KL term.
    alpha : float, default=0.0
        Weight of the cross-entropy to the labels; ``1 - alpha`` weighs the distillation term.
        With every row labelled, ``alpha=1`` is ordinary supervised training; a row labelled -1
        always has the teacher's term alone. ``alpha=0`` is pure distillation.
    sample_weight : torch.Tensor of shape (n_samples,), default=None
        Per-row weights; the mean becomes a weighted mean.
    reduction : {"mean", "sum", "none"}, default="mean"

    Returns
    -------
    torch.Tensor
        A scalar, or the per-row losses with ``reduction="none"``.

    Examples
    --------
    >>> import torch
    >>> from skdistill.losses import distillation_loss
    >>> teacher = torch.tensor([[2.0, 0.0, -1.0]])
    >>> float(distillation_loss(teacher.clone(), teacher, T=4.0, alpha=0.0))
    0.0
    """
    if not T > 0:
        raise ValueError(f"T must be > 0, got {T!r}.")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}.")
    if alpha > 0 and y is None:
        raise ValueError(f"alpha={alpha!r} > 0 weighs a cross-entropy to the labels, so y is required.")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}.")
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f"student_logits has shape {tuple(student_logits.shape)} but teacher_logits has shape "
            f"{tuple(teacher_logits.shape)}; both must be (n_samples, n_classes)."
        )
    if sample_weight is not None and not float(sample_weight.sum()) > 0:
        raise ValueError("sample_weight must have a positive sum; it is 0 (or negative) for this batch.")
    labelled = None
    if y is not None and bool((y < 0).any()):
        labelled = (y >= 0).to(student_logits.dtype)
    teacher_log_probs = tempered_log_softmax(teacher_logits.detach(), T)
    loss = per_sample_distillation_loss(student_logits, teacher_log_probs, y, T=T, alpha=alpha, labelled=labelled)
    if sample_weight is not None:
        loss = loss * sample_weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / sample_weight.sum() if sample_weight is not None else loss.mean()


# --- Loss objects -----------------------------------------------------------------------------------
# A fit's loss is one object carried by its targets (``DistillationTargets.loss``): it precomputes what
# it needs of the teacher once per fit (``teacher_term``) and gives each row's loss per batch
# (``per_sample``). Training loops know nothing else about it, so a new loss is one small class here.


class KLDistillationLoss:
    """``alpha * CE(y, s) + (1 - alpha) * T**2 * KL(softmax(t / T) || softmax(s / T))`` (``loss="kl"``).

    Parameters
    ----------
    T : float
        Temperature, > 0.
    alpha : float
        Weight of the cross-entropy to the labels, in [0, 1].
    """

    name = "kl"
    # Classical students reach this objective through the soft targets: every soft-label route.
    classical_routes = None

    def __init__(self, T, alpha):
        self.T = float(T)
        self.alpha = float(alpha)

    def needs_teacher(self, has_unlabelled_rows):
        """Whether the teacher's term is used at all (not with ``alpha=1`` and every row labelled)."""
        return self.alpha < 1 or has_unlabelled_rows

    def label_tensor(self, y, *, dtype, device):
        """``y`` as the tensor :meth:`per_sample` takes: class indices (int64)."""
        return torch.as_tensor(y, dtype=torch.int64, device=device)

    def teacher_term(self, teacher_logits, *, dtype, device, chunk_rows=4096):
        """``log_softmax(teacher_logits / T)``, in float64 then stored as ``dtype``, a chunk at a time.

        Computing it on all rows at once held three float64 copies of the logits (150 MB at 1M x 10).
        """
        term = torch.empty(teacher_logits.shape, dtype=dtype, device=device)
        for start in range(0, len(teacher_logits), chunk_rows):
            chunk = torch.tensor(teacher_logits[start : start + chunk_rows], dtype=torch.float64)  # a copy
            term[start : start + chunk_rows] = tempered_log_softmax(chunk, self.T)
        return term

    def per_sample(self, student_logits, teacher_term, y, labelled):
        """The loss of each row; ``labelled`` (1/0 per row, or None when all are) weighs the label term."""
        return per_sample_distillation_loss(
            student_logits, teacher_term, y, T=self.T, alpha=self.alpha, labelled=labelled
        )


class LogitMatchingLoss(KLDistillationLoss):
    """``alpha * CE(y, s) + (1 - alpha) * mean_k((s_k - t_k)**2)`` on row-centred logits (``loss="mse"``).

    Matching logits by squared error (Ba & Caruana, 2014). Both sides are centred per row (their mean
    over the classes subtracted), since softmax ignores a constant added to a row and a scikit-learn
    teacher's logits are ``log(p)``, defined up to one. The teacher's logits are first floored at
    ``LOGIT_FLOOR`` (13.8) below the row's largest, a probability ratio of 1e-6: a probability of 0
    (as forests give) is ``log`` of the smallest float, about -708, and would otherwise dominate the
    squared error. ``T`` does not change this objective: dividing both sides by ``T`` and
    multiplying the term by ``T**2`` cancel.
    """

    name = "mse"
    classical_routes = ("regression_logits",)

    def teacher_term(self, teacher_logits, *, dtype, device, chunk_rows=4096):
        """The teacher's logits, floored at ``LOGIT_FLOOR`` below each row's largest, then centred per row."""
        term = torch.empty(teacher_logits.shape, dtype=dtype, device=device)
        for start in range(0, len(teacher_logits), chunk_rows):
            chunk = torch.tensor(teacher_logits[start : start + chunk_rows], dtype=torch.float64)
            chunk = torch.maximum(chunk, chunk.max(dim=1, keepdim=True).values - LOGIT_FLOOR)
            term[start : start + chunk_rows] = chunk - chunk.mean(dim=1, keepdim=True)
        return term

    def per_sample(self, student_logits, teacher_term, y, labelled):
        row_alpha = self.alpha if labelled is None else self.alpha * labelled
        loss = torch.zeros(student_logits.shape[0], dtype=student_logits.dtype, device=student_logits.device)
        if teacher_term is not None:
            centred = student_logits - student_logits.mean(dim=1, keepdim=True)
            loss = loss + (1.0 - row_alpha) * (centred - teacher_term).square().mean(dim=1)
        if self.alpha > 0:
            log_probs = _log_softmax_rows(student_logits)
            loss = loss - row_alpha * log_probs.gather(1, y.clamp(min=0)[:, None]).squeeze(1)
        return loss


class CallableLoss(KLDistillationLoss):
    """A user's loss: ``function(student_logits, teacher_logits, y, *, T, alpha)`` -> one loss per row.

    ``teacher_logits`` are the teacher's (aligned to the classes, as given: not tempered), ``y`` the
    class index of each row (``-1`` for a row without a label) or ``None``; the result must be a
    tensor of shape ``(n_samples,)``, differentiable with respect to ``student_logits``. Sample
    weights and the mean over rows are applied by the training loop.
    """

    name = "callable"
    classical_routes = ()

    def __init__(self, function, T, alpha):
        super().__init__(T, alpha)
        self.function = function

    def needs_teacher(self, has_unlabelled_rows):
        return True

    def teacher_term(self, teacher_logits, *, dtype, device, chunk_rows=4096):
        return torch.tensor(np.asarray(teacher_logits), dtype=dtype, device=device)

    def per_sample(self, student_logits, teacher_term, y, labelled):
        loss = self.function(student_logits, teacher_term, y, T=self.T, alpha=self.alpha)
        name = getattr(self.function, "__name__", type(self.function).__name__)
        if not isinstance(loss, torch.Tensor) or tuple(loss.shape) != (student_logits.shape[0],):
            shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
            raise ValueError(
                f"The loss {name} must return a tensor of shape (n_samples,) = ({student_logits.shape[0]},), one "
                f"loss per row (the training loop weighs and averages them); it returned {shape}."
            )
        return loss


class BlendedSquaredError(KLDistillationLoss):
    """``alpha * ||s - y||**2 + (1 - alpha) * ||s - t||**2`` per row, for regression students.

    ``s`` are the student's outputs, ``y`` the targets and ``t`` the teacher's predictions, summed
    over the outputs; a row without a target takes the teacher's term alone. Up to a constant, this
    is the squared error to the blended target ``alpha * y + (1 - alpha) * t``, which is what a
    classical regressor student is fitted to.

    Parameters
    ----------
    alpha : float
        Weight of the true targets, in [0, 1].
    """

    name = "squared_error"

    def __init__(self, alpha):
        super().__init__(1.0, alpha)

    def label_tensor(self, y, *, dtype, device):
        return torch.as_tensor(np.nan_to_num(y), dtype=dtype, device=device)

    def teacher_term(self, teacher_logits, *, dtype, device, chunk_rows=4096):
        return torch.tensor(np.asarray(teacher_logits), dtype=dtype, device=device)

    def per_sample(self, student_logits, teacher_term, y, labelled):
        row_alpha = self.alpha if labelled is None else self.alpha * labelled
        loss = torch.zeros(student_logits.shape[0], dtype=student_logits.dtype, device=student_logits.device)
        if teacher_term is not None:
            loss = loss + (1.0 - row_alpha) * (student_logits - teacher_term).square().sum(dim=1)
        if self.alpha > 0:
            loss = loss + row_alpha * (student_logits - y).square().sum(dim=1)
        return loss


def _check_loss_signature(function):
    """Raise a ``TypeError`` now, before any work, if ``function`` cannot be called as a loss is."""
    exc = call_refused(function, None, None, None, T=1.0, alpha=0.0)
    if exc is not None:
        name = getattr(function, "__name__", type(function).__name__)
        raise TypeError(
            f"The loss {name} must be callable as loss(student_logits, teacher_logits, y, *, T, alpha) and return "
            f"one loss per row; it cannot ({exc}). Add the keyword arguments, e.g. def {name}(s, t, y, *, T, "
            "alpha): ..."
        ) from None


LOSSES = {"kl": KLDistillationLoss, "mse": LogitMatchingLoss}

# Logit matching treats a class more than 1e6 times less likely than the row's top class as 1e6 times less.
LOGIT_FLOOR = float(np.log(1e6))


def as_loss(loss, T, alpha):
    """The loss object for a distiller's ``loss`` parameter (``"kl"``, ``"mse"`` or a callable)."""
    if callable(loss) and not isinstance(loss, str):
        _check_loss_signature(loss)
        return CallableLoss(loss, T, alpha)
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)} or a callable; got {loss!r}.")
    return LOSSES[loss](T, alpha)
