"""Which training route fits a student: the one place that asks what kind of model a student is.

Every route turns ``DistillationTargets`` into a fitted student with ``predict_proba`` and
``classes_``. Neural students train on the logits (``alpha * CE + (1 - alpha) * T**2 * KL``); the
others learn the soft targets ``q = alpha * onehot(y) + (1 - alpha) * softmax(t / T)``.
"""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import has_fit_parameter

from ._mlp import MLPStudent
from ._soft_logistic import fit_soft_logistic, logistic_penalty
from ._soft_regression import RegressorStudent
from ._soft_tree import fit_soft_tree, supports_soft_gini
from ._soft_weights import (
    fit_soft_weights,
    fit_soft_weights_on_positions,
    learns_incrementally_from_weights,
    partial_fit_soft_weights,
)
from ._torch import TorchStudent

ROUTES = ("auto", "native", "logistic", "tree", "sample_weight", "regression_proba", "regression_logits")


def is_scikit_learn_or_ours(estimator):
    """Whether ``estimator``'s class is scikit-learn's or skdistill's, judged by the module defining it.

    Only those may be met through scikit-learn's private API (``_validate_params``) and trusted to take
    any labels: LightGBM, XGBoost and CatBoost look like scikit-learn estimators but are not.
    """
    package = type(estimator).__module__.partition(".")[0]
    return package in ("sklearn", "skdistill")


# Modules of scikit-learn's base classes and mixins, which other libraries' estimators inherit too.
_SKLEARN_BASES = ("sklearn.base", "sklearn.utils")


def takes_any_labels(estimator):
    """Whether ``estimator`` can be fitted on the labels as they are (strings, any integers).

    True for scikit-learn's and skdistill's estimators and for classes built on one of their models
    (a user's ``DecisionTreeClassifier`` subclass, imbalanced-learn's ``BalancedRandomForestClassifier``),
    whose ``predict`` then gives labels; False for other libraries (XGBoost takes only 0 .. K-1, all
    present; LightGBM and CatBoost are treated alike), which are fitted on label positions, and for a
    scikit-learn meta-estimator holding one (``make_pipeline(StandardScaler(), XGBClassifier())``).
    Base classes and mixins (``BaseEstimator``, ``ClassifierMixin``) do not count: XGBoost and LightGBM
    inherit them.
    """
    get_params = getattr(estimator, "get_params", None)
    nested = list(get_params(deep=True).values()) if callable(get_params) else []
    parts = [estimator, *(value for value in nested if hasattr(value, "fit") and not isinstance(value, type))]
    return all(_built_on_scikit_learn(type(part)) for part in parts)


def _built_on_scikit_learn(cls):
    for klass in cls.__mro__:
        module = klass.__module__
        if module.partition(".")[0] in ("sklearn", "skdistill") and not module.startswith(_SKLEARN_BASES):
            return True
    return False


def _is_native(student):
    return hasattr(student, "fit_distill") and hasattr(student, "predict_proba")


def _route_applies(route, student):
    """Why ``route`` cannot train ``student``, or None if it can."""
    name = type(student).__name__
    if route == "native":
        return None if _is_native(student) else f"{name} has no fit_distill (it is not a neural student)"
    if route == "logistic":
        if not isinstance(student, LogisticRegression) or not hasattr(student, "C"):
            return f"{name} is not a LogisticRegression with a single C"
        if logistic_penalty(student) not in ("l2", None):
            return "it needs an L2 penalty or none (an L1 or elastic-net penalty goes by route='sample_weight')"
        return None
    if route == "tree":
        if not isinstance(student, DecisionTreeClassifier) or not supports_soft_gini(student):
            return "it needs a DecisionTreeClassifier with criterion='gini' and no monotonic_cst"
        return None
    if route == "sample_weight":
        return _sample_weight_route_refuses(student)
    if is_regressor(student):
        return None
    return f"{name} is not a regressor"


def _sample_weight_route_refuses(student):
    """Why expanded, soft-weighted rows cannot train ``student``, or None."""
    name = type(student).__name__
    if not is_classifier(student) or not has_fit_parameter(student, "sample_weight"):
        return f"{name} is not a classifier whose fit accepts sample_weight"
    if not hasattr(student, "predict_proba"):
        return (
            f"{name} has no predict_proba, so it cannot give class probabilities; use a probabilistic "
            "loss (SGDClassifier(loss='log_loss')) or wrap it in CalibratedClassifierCV"
        )
    params = student.get_params(deep=False)
    stopping = [param for param, value in params.items() if _stops_early(param, value, params)]
    if stopping:
        settings = ", ".join(f"{param}={params[param]!r}" for param in stopping)
        turn_off = " and ".join(_EARLY_STOPPING_OFF[param] for param in stopping)
        return (
            "its early stopping would validate on expanded rows, copies of training rows, or fail for want "
            f"of a validation set (none is passed to fit); turn it off ({turn_off}; it has {settings})"
        )
    if params.get("class_weight") == "balanced_subsample":
        return "class_weight='balanced_subsample' has no soft-label equivalent; use 'balanced'"
    return None


def _is_on(value):
    """Whether a number of rounds, a fraction or a switch turns something on (``0``, ``None``, ``False`` do not)."""
    return value is True or (value is not None and value is not False and not (isinstance(value, Real) and value <= 0))


def _stops_early(name, value, params):
    """Whether parameter ``name`` at ``value`` makes the estimator stop early on a validation set."""
    if name == "early_stopping":  # scikit-learn's switch ("auto" is turned off by the route), LightGBM's rounds
        return value is True or (isinstance(value, Integral) and not isinstance(value, bool) and value > 0)
    if name == "n_iter_no_change":  # governed by early_stopping where there is one (SGDClassifier)
        return "early_stopping" not in params and _is_on(value)
    if name == "callbacks":  # XGBoost's xgboost.callback.EarlyStopping
        return any(type(callback).__name__ == "EarlyStopping" for callback in value or ())
    return name in _EARLY_STOPPING_OFF and _is_on(value)


# Parameters that stop training early on a validation set, and how to turn each off: scikit-learn's
# (early_stopping, n_iter_no_change with a validation split), LightGBM's (early_stopping_round and its
# aliases), XGBoost's (early_stopping_rounds, an EarlyStopping callback) and CatBoost's (its overfitting
# detector od_*, early_stopping_rounds, eval_fraction, use_best_model).
_EARLY_STOPPING_OFF = {
    "early_stopping": "early_stopping=False",
    "n_iter_no_change": "n_iter_no_change=None",
    "early_stopping_round": "early_stopping_round=None",
    "early_stopping_rounds": "early_stopping_rounds=None",
    "callbacks": "callbacks without EarlyStopping",
    "od_type": "od_type=None",
    "od_wait": "od_wait=None",
    "od_pval": "od_pval=None",
    "eval_fraction": "eval_fraction=None",
    "use_best_model": "use_best_model=False",
}


def choose_route(student):
    """The exact and cheapest route for ``student``: native, logistic, tree, sample_weight or regression_proba.

    A regressor learns the soft targets themselves, not their log: held-out agreement with the teacher
    was higher on average, and much higher for teachers that give exact zeros (forests), whose log
    targets sit at the floor (``benchmarks/bench_regressor_route.py``).
    """
    for route in ("native", "logistic", "tree", "sample_weight", "regression_proba"):
        if _route_applies(route, student) is None:
            return route
    if is_classifier(student) and has_fit_parameter(student, "sample_weight"):
        # The route it is made for refuses one of its settings: say which, not that nothing fits.
        reason = _route_applies("sample_weight", student)
        raise ValueError(f"route='sample_weight' cannot train the student {type(student).__name__}: {reason}.")
    if isinstance(student, Pipeline):
        raise TypeError(
            "A Pipeline cannot be the student; put the preprocessing around the distiller instead: "
            "make_pipeline(StandardScaler(), DistilledClassifier(teacher, LogisticRegression()))."
        )
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

    Attributes
    ----------
    output_classes_ : ndarray
        Set by ``fit_distill``: the label of each column of the fitted student's ``predict_proba``. A
        student from another library (LightGBM, XGBoost, CatBoost; see :func:`takes_any_labels`) is fitted on class positions by
        the ``"sample_weight"`` route, so its own ``classes_`` are positions in ``output_classes_``.
    """

    def __init__(self, estimator, route):
        self.estimator = estimator
        self.route = route

    def check_fit_arguments(self, sample_weight):
        """Raise now (before any work) if ``sample_weight`` cannot reach this student.

        Parameters
        ----------
        sample_weight : array-like or None
        """
        regression = self.route in ("regression_proba", "regression_logits")
        if sample_weight is not None and regression and not has_fit_parameter(self.estimator, "sample_weight"):
            raise ValueError(
                f"sample_weight was given, but the regressor student {type(self.estimator).__name__} does "
                "not accept sample_weight in fit."
            )

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
        if self.route == "sample_weight" and not takes_any_labels(self.estimator):
            # XGBoost takes only the labels 0 .. K-1, all present: fit on positions, remember the labels.
            fitted, self.output_classes_ = fit_soft_weights_on_positions(self.estimator, *arguments)
            return fitted
        if self.route == "sample_weight":
            fitted = fit_soft_weights(self.estimator, *arguments)
        elif self.route in ("logistic", "tree"):
            fitted = (fit_soft_logistic if self.route == "logistic" else fit_soft_tree)(self.estimator, *arguments)
        else:
            target = "proba" if self.route == "regression_proba" else "logits"
            fitted = RegressorStudent(self.estimator, target=target).fit_soft(*arguments)
        self.output_classes_ = np.asarray(fitted.classes_)
        return fitted


def check_incremental(student):
    """Raise a clear error, before any work, if ``as_student``'s result cannot learn chunk by chunk.

    Parameters
    ----------
    student : object returned by :func:`as_student`
    """
    if hasattr(student, "partial_fit_distill"):
        return
    wrapped = isinstance(student, SoftLabelStudent)
    estimator = student.estimator if wrapped else student
    route = student.route if wrapped else "sample_weight"
    if route == "sample_weight" and learns_incrementally_from_weights(estimator):
        return
    raise TypeError(
        f"The student {type(estimator).__name__} cannot learn incrementally (route {route!r}): "
        "partial_fit needs a neural student (MLPStudent, TorchStudent) or a classifier whose partial_fit takes "
        "classes and sample_weight and which has predict_proba (SGDClassifier(loss='log_loss'), MultinomialNB, "
        "BernoulliNB, ...). Use fit for this student."
    )


def partial_fit_student(student, X, targets, sample_weight=None):
    """Continue training ``student`` (a neural student, or a classifier with ``partial_fit``) on a chunk.

    The caller checks the student with :func:`check_incremental` first, before the teacher runs.

    Parameters
    ----------
    student : object returned by :func:`as_student`, or a student returned by an earlier call
    X : array-like of shape (n_samples, n_features)
    targets : DistillationTargets
    sample_weight : ndarray of shape (n_samples,), default=None

    Returns
    -------
    estimator
        The student, updated in place: the one to pass to the next call.
    """
    if hasattr(student, "partial_fit_distill"):
        return student.partial_fit_distill(X, targets, sample_weight=sample_weight)
    estimator = student.estimator if isinstance(student, SoftLabelStudent) else student
    return partial_fit_soft_weights(estimator, X, targets.soft_targets(), targets.classes, sample_weight)


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
    elif is_scikit_learn_or_ours(prepared) and hasattr(prepared, "_validate_params"):
        prepared._validate_params()  # scikit-learn's own parameter checks, before any work
    return prepared if chosen == "native" else SoftLabelStudent(prepared, chosen)
