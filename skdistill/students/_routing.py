"""Which training route fits a student: the one place that asks what kind of model a student is."""

import torch
from sklearn.base import clone

from ._mlp import MLPStudent
from ._torch import TorchStudent


def as_student(student):
    """An unfitted, parameter-checked copy of ``student`` that can be trained from a teacher.

    Every student returned has ``fit_distill(X, targets, sample_weight)`` and, once fitted,
    ``predict_proba`` with columns in the order of ``targets.classes``.

    Parameters
    ----------
    student : MLPStudent, TorchStudent, torch.nn.Module, estimator with ``fit_distill``, or None
        ``None`` means ``MLPStudent()``; a bare module is wrapped in ``TorchStudent`` (and used as a
        template: training works on a copy). Any other estimator with
        ``fit_distill(X, targets, sample_weight)`` and ``predict_proba`` is cloned and used as it is.

    Returns
    -------
    student : estimator
        Never the object given: a clone, or a new wrapper.
    """
    if student is None:
        prepared = MLPStudent()
    elif isinstance(student, torch.nn.Module):
        prepared = TorchStudent(student)
    elif hasattr(student, "fit_distill") and hasattr(student, "predict_proba"):
        # MLPStudent, TorchStudent, or a user's own estimator implementing the student protocol.
        prepared = clone(student)
    else:
        raise TypeError(
            f"The student {type(student).__name__} cannot be distilled into yet: skdistill trains neural "
            "students (MLPStudent, TorchStudent or a torch.nn.Module returning logits), or any estimator "
            "with fit_distill(X, targets, sample_weight) and predict_proba."
        )
    if hasattr(prepared, "check_params"):
        prepared.check_params()
    return prepared
