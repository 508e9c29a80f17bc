"""The training routes: how each kind of student learns from a teacher, one small object per route.

A route answers four questions about a student: does it apply (``why_refused``), can the fit's
arguments reach it (``check_fit_arguments``), how is it fitted on ``DistillationTargets`` (``fit``)
and can it continue chunk by chunk (``learns_incrementally`` / ``partial_fit``). :data:`REGISTRY`
holds them in the order ``route="auto"`` tries them; a new kind of student is one class and one line
there.
"""

from dataclasses import replace
from numbers import Integral, Real

import numpy as np
from sklearn.base import is_classifier, is_regressor
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.validation import has_fit_parameter

from ._provenance import takes_any_labels
from ._soft_boosting import BoostingStudent, booster_library, user_objective, why_booster_refused
from ._soft_hist_boosting import fit_soft_hist_boosting, why_hist_boosting_refused
from ._soft_logistic import fit_soft_logistic, logistic_penalty
from ._soft_regression import RegressorStudent
from ._soft_tree import fit_soft_tree, supports_soft_gini
from ._soft_weights import (
    fit_soft_weights,
    fit_soft_weights_on_positions,
    learns_incrementally_from_weights,
    partial_fit_soft_weights,
)


class Route:
    """A way of training a student from ``DistillationTargets``; subclasses fill in the four answers.

    Attributes
    ----------
    name : str
        The value of the distillers' ``route`` parameter.
    automatic : bool
        Whether ``route="auto"`` considers it.
    """

    name = ""
    automatic = True

    def why_refused(self, student):
        """Why this route cannot train ``student`` (a sentence), or None if it can."""
        raise NotImplementedError

    def check_fit_arguments(self, student, sample_weight):
        """Raise now, before any work, if ``sample_weight`` cannot reach ``student``."""

    def check_n_classes(self, student, n_classes):
        """Raise now, before any work, if this route cannot train ``student`` on ``n_classes`` classes."""

    def input_tags(self, student, tags):
        """What the student trained by this route takes, from ``tags``, the student's own input tags.

        The student's own, for a route that gives it X as it is; a route whose code reads X itself
        narrows them.
        """
        return tags

    def fit(self, student, X, targets, sample_weight=None):
        """Fit ``student`` (or a clone) on ``targets``; return ``(fitted, output_classes)``.

        ``output_classes`` is the label of each column of the fitted student's ``predict_proba``.
        """
        raise NotImplementedError

    def learns_incrementally(self, student):
        """Whether :meth:`partial_fit` can continue ``student`` chunk by chunk."""
        return False

    def partial_fit(self, student, X, targets, sample_weight=None):
        """Continue ``student`` on one chunk, in place; return it."""
        raise NotImplementedError(f"route {self.name!r} cannot learn incrementally")


class NativeRoute(Route):
    """Neural students (``fit_distill``): trained on the logits with the targets' loss."""

    name = "native"

    def why_refused(self, student):
        if hasattr(student, "fit_distill") and hasattr(student, "predict_proba"):
            return None
        return f"{type(student).__name__} has no fit_distill (it is not a neural student)"

    def fit(self, student, X, targets, sample_weight=None):
        fitted = student.fit_distill(X, targets, sample_weight=sample_weight)
        return fitted, np.asarray(fitted.classes_)

    def learns_incrementally(self, student):
        return hasattr(student, "partial_fit_distill")

    def partial_fit(self, student, X, targets, sample_weight=None):
        return student.partial_fit_distill(X, targets, sample_weight=sample_weight)


class _SoftLabelRoute(Route):
    """Routes of classical students: they learn ``targets.soft_targets()`` through ``fit_soft``."""

    def fit(self, student, X, targets, sample_weight=None):
        fitted = self.fit_soft(student, X, targets.soft_targets(), targets.classes, sample_weight)
        return fitted, np.asarray(fitted.classes_)

    def fit_soft(self, student, X, soft_labels, classes, sample_weight):
        raise NotImplementedError


class LogisticRoute(_SoftLabelRoute):
    """``LogisticRegression`` (L2 or no penalty) fitted to the soft cross-entropy exactly."""

    name = "logistic"

    def why_refused(self, student):
        if not isinstance(student, LogisticRegression) or not hasattr(student, "C"):
            return f"{type(student).__name__} is not a LogisticRegression with a single C"
        if logistic_penalty(student) not in ("l2", None):
            return "it needs an L2 penalty or none (an L1 or elastic-net penalty goes by route='sample_weight')"
        return None

    def fit_soft(self, student, X, soft_labels, classes, sample_weight):
        return fit_soft_logistic(student, X, soft_labels, classes, sample_weight)


class TreeRoute(_SoftLabelRoute):
    """``DecisionTreeClassifier`` (Gini) grown on soft labels, its leaves holding soft distributions."""

    name = "tree"

    def why_refused(self, student):
        if not isinstance(student, DecisionTreeClassifier) or not supports_soft_gini(student):
            return "it needs a DecisionTreeClassifier with criterion='gini' and no monotonic_cst"
        return None

    def fit_soft(self, student, X, soft_labels, classes, sample_weight):
        return fit_soft_tree(student, X, soft_labels, classes, sample_weight)


class SampleWeightRoute(Route):
    """Any classifier whose ``fit`` takes ``sample_weight``: one row per (row, class), weighted by ``q``."""

    name = "sample_weight"

    def why_refused(self, student):
        name = type(student).__name__
        if not is_classifier(student) or not has_fit_parameter(student, "sample_weight"):
            return f"{name} is not a classifier whose fit accepts sample_weight"
        if not hasattr(student, "predict_proba"):
            return (
                f"{name} has no predict_proba, so it cannot give class probabilities; use a probabilistic "
                "loss (SGDClassifier(loss='log_loss')) or wrap it in CalibratedClassifierCV"
            )
        params = student.get_params(deep=False)
        refusal = _user_objective_refusal(student) or _early_stopping_refusal(params, "on expanded rows, copies of training rows,")
        if refusal is not None:
            return refusal
        if params.get("class_weight") == "balanced_subsample":
            return "class_weight='balanced_subsample' has no soft-label equivalent; use 'balanced'"
        return None

    def check_n_classes(self, student, n_classes):
        params = student.get_params(deep=False)
        if isinstance(student, LogisticRegression) and params.get("solver") == "liblinear" and n_classes > 2:
            raise ValueError(
                f"LogisticRegression(solver='liblinear') handles two classes only, and there are {n_classes}. "
                "Use solver='saga' (it takes penalty='l1' too) or another solver."
            )

    def fit(self, student, X, targets, sample_weight=None):
        arguments = (student, X, targets.soft_targets(), targets.classes, sample_weight)
        if not takes_any_labels(student):
            # XGBoost takes only the labels 0 .. K-1, all present: fit on positions, remember the labels.
            return fit_soft_weights_on_positions(*arguments)
        fitted = fit_soft_weights(*arguments)
        return fitted, np.asarray(fitted.classes_)

    def learns_incrementally(self, student):
        return learns_incrementally_from_weights(student)

    def partial_fit(self, student, X, targets, sample_weight=None):
        return partial_fit_soft_weights(student, X, targets.soft_targets(), targets.classes, sample_weight)


class BoostingRoute(_SoftLabelRoute):
    """Gradient-boosted students (LightGBM, XGBoost, HistGradientBoosting) with the soft cross-entropy as
    their objective: one ordinary fit, where the ``"sample_weight"`` route pays about ``n_classes``."""

    name = "boosting"

    def why_refused(self, student):
        hist = isinstance(student, HistGradientBoostingClassifier)
        if not hist and booster_library(student) is None:
            return f"{type(student).__name__} is not a LightGBM, XGBoost or HistGradientBoosting classifier"
        refusal = _user_objective_refusal(student) or _early_stopping_refusal(
            student.get_params(deep=False), "on rows the soft labels are not known for,"
        )
        if refusal is not None:
            return refusal
        return why_hist_boosting_refused(student) if hist else why_booster_refused(student)

    def fit_soft(self, student, X, soft_labels, classes, sample_weight):
        if not isinstance(student, HistGradientBoostingClassifier):
            return BoostingStudent(student).fit_soft(X, soft_labels, classes, sample_weight)
        if len(X) < len(classes):  # too few rows to give every class a stand-in label: expanded rows
            return fit_soft_weights(student, X, soft_labels, classes, sample_weight)
        return fit_soft_hist_boosting(student, X, soft_labels, classes, sample_weight)


def _user_objective_refusal(student):
    """Why a booster's objective function of the user's own cannot be trained on soft labels, or None."""
    booster = isinstance(student, HistGradientBoostingClassifier) or booster_library(student) is not None
    name = user_objective(student) if booster else None
    if name is None:
        return None
    objective = student.get_params(deep=False)[name]
    return (
        f"its {name} is a function of your own ({getattr(objective, '__name__', type(objective).__name__)}); distillation trains a booster on the soft cross-entropy, which would replace it. Remove "
        f"{name}= (the library's default objective is the one distilled), or use a neural student "
        "(MLPStudent, TorchStudent) with a loss of your own"
    )


def _early_stopping_refusal(params, where):
    """Why the early stopping set in ``params`` cannot run on this route (it would validate ``where``), or None."""
    stopping = [param for param, value in params.items() if _stops_early(param, value, params)]
    if not stopping:
        return None
    settings = ", ".join(f"{param}={params[param]!r}" for param in stopping)
    turn_off = " and ".join(EARLY_STOPPING_OFF[param] for param in stopping)
    return (
        f"its early stopping would validate {where} or fail for want of a validation set (none is passed to "
        f"fit); turn it off ({turn_off}; it has {settings})"
    )


class RegressionRoute(_SoftLabelRoute):
    """A regressor fitted to the soft targets (``target="proba"``) or to their log (``"logits"``)."""

    def __init__(self, name, target, automatic):
        self.name = name
        self.target = target
        self.automatic = automatic

    def why_refused(self, student):
        return None if is_regressor(student) else f"{type(student).__name__} is not a regressor"

    def input_tags(self, student, tags):
        return replace(tags, sparse=False, allow_nan=False)  # RegressorStudent takes dense, finite X

    def check_fit_arguments(self, student, sample_weight):
        if sample_weight is not None and not has_fit_parameter(student, "sample_weight"):
            raise ValueError(
                f"sample_weight was given, but the regressor student {type(student).__name__} does "
                "not accept sample_weight in fit."
            )

    def fit_soft(self, student, X, soft_labels, classes, sample_weight):
        return RegressorStudent(student, target=self.target).fit_soft(X, soft_labels, classes, sample_weight)


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
    return name in EARLY_STOPPING_OFF and _is_on(value)


# Parameters that stop training early on a validation set, and how to turn each off: scikit-learn's
# (early_stopping, n_iter_no_change with a validation split), LightGBM's (early_stopping_round and its
# aliases), XGBoost's (early_stopping_rounds, an EarlyStopping callback) and CatBoost's (its overfitting
# detector od_*, early_stopping_rounds, eval_fraction, use_best_model).
EARLY_STOPPING_OFF = {
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

# Every route, in the order route="auto" tries them: the exact and cheapest first. A regressor learns
# the soft targets themselves, not their log: held-out agreement with the teacher was higher on average,
# and much higher for teachers that give exact zeros (forests), whose log targets sit at the floor
# (benchmarks/bench_regressor_route.py).
REGISTRY = {
    route.name: route
    for route in (
        NativeRoute(),
        LogisticRoute(),
        TreeRoute(),
        BoostingRoute(),
        SampleWeightRoute(),
        RegressionRoute("regression_proba", "proba", automatic=True),
        RegressionRoute("regression_logits", "logits", automatic=False),
    )
}
