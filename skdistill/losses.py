"""Distillation losses: pure torch functions, no estimator code.

The project's loss, for student logits ``s``, teacher logits ``t`` and labels ``y``::

    alpha * CE(y, s) + (1 - alpha) * T**2 * KL(softmax(t / T) || softmax(s / T))

``T**2`` keeps the gradient of the soft term on the same scale as the hard term when ``T`` changes
(Hinton, Vinyals & Dean, 2015): the gradient of the KL term with respect to ``s`` is
``(softmax(s / T) - softmax(t / T)) / T``.
"""

import torch
import torch.nn.functional as F

__all__ = ["distillation_loss", "tempered_log_softmax"]


def tempered_log_softmax(logits, T):
    """``log(softmax(logits / T))`` along the class axis.

    Parameters
    ----------
    logits : torch.Tensor of shape (n_samples, n_classes)
    T : float
        Temperature, > 0. Larger values give softer distributions.

    Returns
    -------
    torch.Tensor of shape (n_samples, n_classes)
    """
    return F.log_softmax(logits / T, dim=1)


def per_sample_distillation_loss(student_logits, teacher_log_probs, y, *, T, alpha):
    """The loss of each row, with the teacher's tempered log-probabilities precomputed.

    Training loops call this once per batch; computing ``teacher_log_probs`` once per fit rather than
    once per batch is what keeps distillation as cheap as ordinary training.

    Parameters
    ----------
    student_logits : torch.Tensor of shape (n_samples, n_classes)
    teacher_log_probs : torch.Tensor of shape (n_samples, n_classes) or None
        ``tempered_log_softmax(teacher_logits, T)``. ``None`` is allowed only with ``alpha=1``.
    y : torch.Tensor of shape (n_samples,), int64, or None
        Class indices. ``None`` is allowed only with ``alpha=0``.
    T : float
    alpha : float

    Returns
    -------
    torch.Tensor of shape (n_samples,)
    """
    loss = None
    if alpha < 1:
        student_log_probs = tempered_log_softmax(student_logits, T)
        kl = F.kl_div(student_log_probs, teacher_log_probs, reduction="none", log_target=True).sum(dim=1)
        loss = ((1.0 - alpha) * T * T) * kl
    if alpha > 0:
        cross_entropy = F.cross_entropy(student_logits, y, reduction="none")
        loss = alpha * cross_entropy if loss is None else loss + alpha * cross_entropy
    return loss


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
        Class indices in ``[0, n_classes)``. Required when ``alpha > 0``.
    T : float, default=1.0
        Temperature applied to both teacher and student logits in the KL term.
    alpha : float, default=0.0
        Weight of the cross-entropy to the labels; ``1 - alpha`` weighs the distillation term.
        ``alpha=1`` is ordinary supervised training, ``alpha=0`` pure distillation.
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
    teacher_log_probs = tempered_log_softmax(teacher_logits.detach(), T) if alpha < 1 else None
    loss = per_sample_distillation_loss(student_logits, teacher_log_probs, y, T=T, alpha=alpha)
    if sample_weight is not None:
        loss = loss * sample_weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / sample_weight.sum() if sample_weight is not None else loss.mean()
