"""How each kind of student learns a regression teacher: a neural head, or any regressor on blended targets."""

import numpy as np
import torch
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.multioutput import MultiOutputRegressor
from sklearn.utils import get_tags
from sklearn.utils.validation import has_fit_parameter

from ._mlp import MLPStudent
from ._provenance import is_scikit_learn_or_ours
from ._torch import TorchStudent


class BlendedTargetStudent:
    """A regressor student fitted to ``targets.blended()`` (``alpha * y + (1 - alpha) * teacher(X)``).

    Parameters
    ----------
    estimator : regressor
        The user's student, never fitted itself: fitting trains a clone.
    """

    route = "blended"

    def __init__(self, estimator):
        self.estimator = estimator

    def check_fit_arguments(self, sample_weight):
        """Raise now, before any work, if ``sample_weight`` cannot reach the regressor."""
        if sample_weight is not None and not has_fit_parameter(self.estimator, "sample_weight"):
            raise ValueError(
                f"sample_weight was given, but the student {type(self.estimator).__name__} does not accept "
                "sample_weight in fit."
            )

    def fit_distill(self, X, targets, sample_weight=None):
        """Fit a clone of the regressor to the blended targets; return it."""
        blend = targets.blended()
        regressor = clone(self.estimator)
        if blend.shape[1] > 1 and not get_tags(regressor).target_tags.multi_output:
            regressor = MultiOutputRegressor(regressor)  # one regressor per output
        fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
        return regressor.fit(X, _as_fit_target(blend), **fit_params)

    def learns_incrementally(self):
        return hasattr(self.estimator, "partial_fit")


def partial_fit_regressor(student, X, targets, sample_weight=None):
    """Continue a regression student (a neural head, or a regressor with ``partial_fit``) on one chunk."""
    if hasattr(student, "partial_fit_distill"):
        return student.partial_fit_distill(X, targets, sample_weight=sample_weight)
    blend = targets.blended()
    if isinstance(student, BlendedTargetStudent):
        student = clone(student.estimator)
        if blend.shape[1] > 1 and not get_tags(student).target_tags.multi_output:
            student = MultiOutputRegressor(student)  # one regressor per output
    fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
    student.partial_fit(X, _as_fit_target(blend), **fit_params)
    return student


def check_regression_incremental(student):
    """Raise a clear error, before any work, if the student cannot learn chunk by chunk."""
    if hasattr(student, "partial_fit_distill"):
        return
    estimator = student.estimator if isinstance(student, BlendedTargetStudent) else student
    if hasattr(estimator, "partial_fit"):
        return
    raise TypeError(
        f"The student {type(estimator).__name__} cannot learn incrementally: partial_fit needs a neural "
        "student (MLPStudent, TorchStudent) or a regressor with partial_fit (SGDRegressor, ...). Use fit."
    )


def as_regression_student(student):
    """An unfitted, parameter-checked regression student with ``fit_distill(X, targets, sample_weight)``.

    Parameters
    ----------
    student : regressor, MLPStudent, TorchStudent, torch.nn.Module or None
        ``None`` means ``MLPStudent()``; a bare module is wrapped in ``TorchStudent``. A neural student
        learns a regression head (its ``predict`` gives the outputs).

    Returns
    -------
    student
        Never the object given: a clone, or a wrapper of one.
    """
    if student is None:
        student = MLPStudent()
    elif isinstance(student, torch.nn.Module):
        student = TorchStudent(student)
    name = type(student).__name__
    if hasattr(student, "fit_distill"):
        prepared = clone(student)
        prepared.check_params()
        return prepared
    if is_classifier(student):
        raise ValueError(
            f"The student {name} is a classifier; DistilledRegressor needs a regressor (or MLPStudent, "
            "TorchStudent). Use DistilledClassifier to distil a classifier."
        )
    if not is_regressor(student) and not hasattr(student, "predict"):
        raise TypeError(f"The student {name} is not a regressor: it needs fit and predict.")
    prepared = clone(student)
    if is_scikit_learn_or_ours(prepared) and hasattr(prepared, "_validate_params"):
        prepared._validate_params()  # scikit-learn's own parameter checks, before any work
    return BlendedTargetStudent(prepared)


def _as_fit_target(blend):
    """One output as a vector (as regressors expect it), several as a matrix."""
    return blend[:, 0] if blend.shape[1] == 1 else blend


def regression_predictions(student, X):
    """The fitted student's predictions as an array of shape (n_samples, n_outputs)."""
    predictions = np.asarray(student.predict(X), dtype=np.float64)
    return predictions.reshape(len(predictions), -1)
