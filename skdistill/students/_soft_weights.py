"""Any classifier that accepts ``sample_weight``, trained on soft labels by weighting expanded rows.

Row ``i`` with soft label ``q_i`` becomes one row per class ``c``, labelled ``c`` and weighted
``w_i * q_ic``. A weighted loss summed over these rows is ``sum_i w_i sum_c q_ic loss(c, x_i)``: the
soft cross-entropy for a probabilistic classifier, the soft impurity for a tree. Rows whose weight is
negligible (``q_ic < 1e-6``) are left out, which changes each row's objective by less than 1e-6 of it
and saves most rows when the teacher is confident.

Parameters that count rows (``min_samples_leaf``, ``min_samples_split``) count expanded rows; prefer
weight-based ones (``min_weight_fraction_leaf``) where the estimator has them. Early stopping would
validate on copies of training rows, so ``early_stopping="auto"`` is turned off and ``True`` refused
(as is ``n_iter_no_change`` with a validation split, as in ``GradientBoostingClassifier``).
``class_weight`` (a dict or ``"balanced"``) is applied to the expanded rows from the soft counts.
"""

import inspect

import numpy as np
from sklearn.base import clone
from sklearn.utils import _safe_indexing

from ._soft_class_weight import soft_class_weights

# q_ic below this is dropped from the expanded rows.
NEGLIGIBLE_SOFT_WEIGHT = 1e-6


def expand_soft_labels(soft_labels, sample_weight=None):
    """Row indices, class indices and weights of the expanded rows with a non-negligible weight."""
    weights = soft_labels if sample_weight is None else soft_labels * np.asarray(sample_weight)[:, None]
    rows, class_index = np.nonzero(soft_labels >= NEGLIGIBLE_SOFT_WEIGHT)
    return rows, class_index, weights[rows, class_index]


def fit_soft_weights(estimator, X, soft_labels, classes, sample_weight=None):
    """Fit a clone of ``estimator`` on expanded rows weighted by the soft labels.

    Parameters
    ----------
    estimator : classifier whose ``fit`` accepts ``sample_weight``
    X : array-like of shape (n_samples, n_features)
    soft_labels : ndarray of shape (n_samples, n_classes)
    classes : ndarray of shape (n_classes,)
    sample_weight : ndarray of shape (n_samples,), default=None

    Returns
    -------
    estimator
        The fitted clone. Its ``classes_`` are the classes with some non-negligible soft weight.
    """
    rows, class_index, weights = expand_soft_labels(soft_labels, sample_weight)
    fitted = clone(estimator)
    class_weight = fitted.get_params(deep=False).get("class_weight")
    if class_weight is not None:
        # On expanded rows every class has the same count, so the estimator's own "balanced" would do
        # nothing: apply the class weights of the soft labels to the expanded rows instead.
        weights = weights * soft_class_weights(class_weight, soft_labels, classes, sample_weight)[class_index]
        fitted.set_params(class_weight=None)
    if fitted.get_params(deep=False).get("early_stopping") == "auto":
        # A validation split of expanded rows would hold copies of training rows (and "auto" would
        # count copies to decide): early stopping is off on this route.
        fitted.set_params(early_stopping=False)
    fitted.fit(_safe_indexing(X, rows), np.asarray(classes)[class_index], sample_weight=weights)
    return fitted


def learns_incrementally_from_weights(estimator):
    """Whether ``estimator.partial_fit`` takes ``classes`` and ``sample_weight`` (SGDClassifier, MultinomialNB)."""
    partial_fit = getattr(estimator, "partial_fit", None)
    if partial_fit is None:
        return False
    parameters = inspect.signature(partial_fit).parameters
    return "sample_weight" in parameters and "classes" in parameters


def partial_fit_soft_weights(estimator, X, soft_labels, classes, sample_weight=None):
    """One ``partial_fit`` of ``estimator`` (in place) on a chunk's expanded, soft-weighted rows.

    Parameters
    ----------
    estimator : classifier whose ``partial_fit`` accepts ``classes`` and ``sample_weight``
    X : array-like of shape (n_samples, n_features)
    soft_labels : ndarray of shape (n_samples, n_classes)
    classes : ndarray of shape (n_classes,)
        Every class, on every call.
    sample_weight : ndarray of shape (n_samples,), default=None

    Returns
    -------
    estimator
        The same estimator, updated; its ``classes_`` are ``classes``.
    """
    rows, class_index, weights = expand_soft_labels(soft_labels, sample_weight)
    estimator.partial_fit(
        _safe_indexing(X, rows), np.asarray(classes)[class_index], classes=classes, sample_weight=weights
    )
    return estimator
