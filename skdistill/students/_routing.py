"""Which training route fits a student: the one place that asks what kind of model a student is.

Every route turns ``DistillationTargets`` into a fitted student with ``predict_proba`` and
``classes_``. Neural students train on the logits (``alpha * CE + (1 - alpha) * T**2 * KL``); the
others learn the soft targets ``q = alpha * onehot(y) + (1 - alpha) * softmax(t / T)``.
"""

import torch
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import has_fit_parameter

from ._mlp import MLPStudent
from ._soft_logistic import fit_soft_logistic, logistic_penalty
from ._soft_regression import RegressorStudent
from ._soft_tree import fit_soft_tree, supports_soft_gini
from ._soft_weights import fit_soft_weights
from ._torch import TorchStudent

ROUTES = ("auto", "native", "logistic", "tree", "sample_weight", "regression_proba", "regression_logits")


def _is_native(student):
    return hasattr(student, "fit_distill") and hasattr(student, "predict_proba")


def _route_applies(route, student):
    """Why ``route`` cannot train ``student``, or None if it can."""
    name = type(student).__name__
    if route == "native":
        return None if _is_native(student) else f"{name} has no fit_distill (it is not a neural student)"
    if route == "logistic":
        if not isinstance(student, LogisticRegression):
            return f"{name} is not a LogisticRegression"
        if logistic_penalty(student) not in ("l2", None) or isinstance(student.class_weight, dict):
            return "it needs an L2 or no penalty and class_weight None or 'balanced' (use route='sample_weight')"
        return None
    if route == "tree":
        if not isinstance(student, DecisionTreeClassifier) or not supports_soft_gini(student):
            return f"it needs a DecisionTreeClassifier with criterion='gini', no class_weight, no monotonic_cst"
        return None
    if route == "sample_weight":
        if not is_classifier(student) or not has_fit_parameter(student, "sample_weight"):
            return f"{name} is not a classifier whose fit accepts sample_weight"
        if student.get_params(deep=False).get("early_stopping") is True:
            return (
                "early_stopping=True would validate on expanded rows, copies of training rows; set "
                "early_stopping=False"
            )
        return None
    if is_regressor(student):
        return None
    return f"{name} is not a regressor"


def choose_route(student):
    """The exact and cheapest route for ``student``: native, logistic, tree, sample_weight or regression."""
    for route in ("native", "logistic", "tree", "sample_weight", "regression_logits"):
        if _route_applies(route, student) is None:
            return route
    if is_classifier(student) and has_fit_parameter(student, "sample_weight"):
        # The route it is made for refuses one of its settings: say which, not that nothing fits.
        reason = _route_applies("sample_weight", student)
        raise ValueError(f"route='sample_weight' cannot train the student {type(student).__name__}: {reason}.")
    raise TypeError(
        f"The student {type(student).__name__} cannot learn from soft labels: it is not a neural student, "
        "not a classifier whose fit accepts sample_weight, and not a regressor. Use such a classifier "
        "(e.g. HistGradientBoostingClassifier, RandomForestClassifier, SGDClassifier(loss='log_loss')), "
        "a regressor, MLPStudent, or TorchStudent."
    )


class SoftLabelStudent:
    """A classical student and its route: ``fit_distill`` returns the fitted student itself.

    Parameters
    ----------
    estimator : estimator
        The user's student (never fitted itself: each route fits a clone).
    route : {"logistic", "tree", "sample_weight", "regression_proba", "regression_logits"}
    """

    def __init__(self, estimator, route):
        self.estimator = estimator
        self.route = route

    def fit_distill(self, X, targets, sample_weight=None):
        """Fit a clone of the estimator to ``targets.soft_targets()``; return the fitted student.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        targets : DistillationTargets
        sample_weight : ndarray of shape (n_samples,), default=None

        Returns
        -------
        estimator
            A fitted classifier with ``predict_proba`` and ``classes_`` (``LogisticRegression``,
            ``DecisionTreeClassifier``, the user's classifier, or a ``RegressorStudent``).
        """
        soft_labels = targets.soft_targets()
        arguments = (X, soft_labels, targets.classes, sample_weight)
        if self.route == "logistic":
            return fit_soft_logistic(self.estimator, *arguments)
        if self.route == "tree":
            return fit_soft_tree(self.estimator, *arguments)
        if self.route == "sample_weight":
            return fit_soft_weights(self.estimator, *arguments)
        target = "proba" if self.route == "regression_proba" else "logits"
        return RegressorStudent(self.estimator, target=target).fit_soft(*arguments)


def as_student(student, route="auto"):
    """An unfitted, parameter-checked student that can be trained from a teacher.

    Every student returned has ``fit_distill(X, targets, sample_weight)``, which returns the fitted
    student: an estimator with ``predict_proba`` and ``classes_``.

    Parameters
    ----------
    student : estimator, torch.nn.Module or None
        ``None`` means ``MLPStudent()``; a bare module is wrapped in ``TorchStudent`` (and used as a
        template: training works on a copy). An estimator with ``fit_distill`` (``MLPStudent``,
        ``TorchStudent``, or your own) is trained on the logits; any other scikit-learn estimator
        learns the soft targets by the route ``route`` picks.
    route : {"auto", "native", "logistic", "tree", "sample_weight", "regression_proba", "regression_logits"}
        ``"auto"`` picks the exact and cheapest route that applies.

    Returns
    -------
    student
        Never the object given: a clone, or a new wrapper.
    """
    if student is None:
        student = MLPStudent()
    elif isinstance(student, torch.nn.Module):
        student = TorchStudent(student)
    chosen = choose_route(student) if route == "auto" else route
    reason = _route_applies(chosen, student)
    if reason is not None:
        raise ValueError(f"route={chosen!r} cannot train the student {type(student).__name__}: {reason}.")
    prepared = clone(student)
    if hasattr(prepared, "check_params"):
        prepared.check_params()
    elif hasattr(prepared, "_validate_params"):
        prepared._validate_params()  # scikit-learn's own parameter checks, before any work
    return prepared if chosen == "native" else SoftLabelStudent(prepared, chosen)
