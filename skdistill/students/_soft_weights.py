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
``class_weight`` reaches the estimator as a dict keyed by the labels it is fitted on, so each class
weight means what the estimator makes of it for hard labels (a row multiplier for most; in
``SGDClassifier``'s one-vs-rest, the weight of the positive rows of that class's binary problem).
``"balanced"`` becomes the dict of its weights computed from the soft counts, counted as the
estimator's library counts (:func:`~skdistill.students._soft_class_weight.student_class_weights`): the
estimator's own ``"balanced"`` would count the expanded rows, about as many for every class. CatBoost's
``auto_class_weights`` is folded into the expanded rows' weights from the weighted soft counts.
"""

import inspect

import numpy as np
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils import _safe_indexing

from ._soft_class_weight import NEGLIGIBLE_CLASS_SHARE, student_class_weights

# q_ic below this is dropped from the expanded rows.
NEGLIGIBLE_SOFT_WEIGHT = 1e-6


def expand_soft_labels(soft_labels, sample_weight=None):
    """Row indices, class indices and weights of the expanded rows with a non-negligible weight.

    When dropping the negligible weights would leave a single class (a teacher that is all but certain
    of one class on every row, at a low ``T``), every positive weight is kept instead: a classifier
    needs two classes, and the soft labels do have two.
    """
    weights = soft_labels if sample_weight is None else soft_labels * np.asarray(sample_weight)[:, None]
    keep = soft_labels >= NEGLIGIBLE_SOFT_WEIGHT
    if np.count_nonzero(keep.any(axis=0)) < 2:
        keep = weights > 0
    rows, class_index = np.nonzero(keep)
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
    fitted, rows, class_index, weights = _expanded_fit_arguments(estimator, soft_labels, classes, sample_weight)
    _set_class_weight_dict(fitted, estimator, soft_labels, classes, sample_weight, class_index, classes)
    fitted.fit(_safe_indexing(X, rows), np.asarray(classes)[class_index], sample_weight=weights)
    return _with_users_class_weight(fitted, estimator)


def fit_soft_weights_on_positions(estimator, X, soft_labels, classes, sample_weight=None):
    """:func:`fit_soft_weights` for a classifier that takes only labels ``0 .. K-1``, all present.

    XGBoost accepts no other labels, and other libraries need not take strings or any label
    scikit-learn takes: the clone is fitted on the positions ``0 .. K-1`` of the ``K`` classes that have
    some non-negligible soft weight, and the labels of those classes are returned with it.

    Parameters
    ----------
    estimator : classifier whose ``fit`` accepts ``sample_weight``
    X : array-like of shape (n_samples, n_features)
    soft_labels : ndarray of shape (n_samples, n_classes)
    classes : ndarray of shape (n_classes,)
    sample_weight : ndarray of shape (n_samples,), default=None

    Returns
    -------
    fitted : estimator
        The fitted clone; its ``classes_`` are positions in ``column_classes``.
    column_classes : ndarray of shape (K,)
        The label (an entry of ``classes``) of each column of ``fitted.predict_proba``.
    """
    fitted, rows, class_index, weights = _expanded_fit_arguments(estimator, soft_labels, classes, sample_weight)
    present = np.flatnonzero(np.bincount(class_index, minlength=len(classes)))
    position_of = np.zeros(len(classes), dtype=np.intp)
    position_of[present] = np.arange(len(present))
    positions = position_of[class_index]  # a lookup, not np.unique's sort of every expanded row
    _set_class_weight_dict(fitted, estimator, soft_labels, classes, sample_weight, class_index, position_of)
    fitted.fit(_safe_indexing(X, rows), positions, sample_weight=weights)
    _with_users_class_weight(fitted, estimator)
    column_classes = np.asarray(classes)[present]
    fitted_classes = np.asarray(getattr(fitted, "classes_", np.arange(len(present))))
    if not np.array_equal(fitted_classes, np.arange(len(present))):
        raise ValueError(
            f"The student {type(fitted).__name__} was fitted on the labels 0 .. {len(present) - 1} but its "
            f"classes_ are {fitted_classes.tolist()!r}; its predict_proba columns cannot be matched to classes."
        )
    return fitted, column_classes


def _expanded_fit_arguments(estimator, soft_labels, classes, sample_weight):
    """An unfitted clone set up for expanded rows, and those rows' indices, class indices and weights."""
    rows, class_index, weights = expand_soft_labels(soft_labels, sample_weight)
    if np.count_nonzero(np.bincount(class_index, minlength=len(classes))) < 2:
        # The teacher put all the weight on one class on every row (alpha=0, or a T so low that the
        # other classes' probabilities are 0 in float64): a classifier cannot be fitted on one class.
        raise ValueError(
            f"The soft targets put all their weight on one class ({np.asarray(classes)[class_index[:1]].tolist()!r})"
            f" on every row, so the student {type(estimator).__name__} (route 'sample_weight') would see one "
            "class only. Raise T (softer targets), raise alpha (give the labels weight), or use rows where the "
            "teacher is less certain."
        )
    fitted = clone(estimator)
    params = fitted.get_params(deep=False)
    if params.get("auto_class_weights") not in (None, "None"):
        # CatBoost's: on expanded rows every class has about the same count, so its own "Balanced" would
        # do nothing; its weights multiply rows, so they are applied to the expanded rows instead.
        multipliers = _catboost_auto_class_weights(params["auto_class_weights"], soft_labels, classes, sample_weight)
        weights = weights * multipliers[class_index]
        fitted.set_params(auto_class_weights="None")
    if isinstance(fitted, HistGradientBoostingClassifier) and params.get("class_weight") is not None:
        # Its class weights multiply the rows' weights, but a dict is read by the positions of the
        # labels (scikit-learn 1.9 applies it after encoding y): folded into the weights instead.
        weights = weights * student_class_weights(estimator, soft_labels, classes, sample_weight)[class_index]
        fitted.set_params(class_weight=None)
    if params.get("early_stopping") == "auto":
        # A validation split of expanded rows would hold copies of training rows (and "auto" would
        # count copies to decide): early stopping is off on this route.
        fitted.set_params(early_stopping=False)
    return fitted, rows, class_index, weights


def _catboost_auto_class_weights(auto_class_weights, soft_labels, classes, sample_weight):
    """CatBoost's ``auto_class_weights``: ``max_k S_k / S_c`` ("Balanced") or its square root.

    ``S_c`` is the weighted soft count ``sum_i w_i q_ic`` rounded down, as CatBoost sums each class's
    sample weights into a whole number (weights summing to 337.8 count 337; measured with CatBoost 1.2,
    whose fitted ``class_weights`` are such ratios); a count below 1 is kept as it is. Classes with a
    negligible soft count get 1.
    """
    if auto_class_weights == "None":
        return np.ones(len(classes))
    weight = np.ones(len(soft_labels)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    counts = weight @ soft_labels
    present = counts > NEGLIGIBLE_CLASS_SHARE * weight.sum()
    counts = np.where(counts >= 1, np.floor(counts), counts)
    relative = np.ones(len(classes))
    relative[present] = counts[present].max() / counts[present]
    if auto_class_weights == "Balanced":
        return relative
    if auto_class_weights == "SqrtBalanced":
        return np.sqrt(relative)
    raise ValueError(
        f"auto_class_weights={auto_class_weights!r} is not supported on soft labels; use 'Balanced', "
        "'SqrtBalanced' or None."
    )


def _set_class_weight_dict(fitted, estimator, soft_labels, classes, sample_weight, class_index, fit_labels):
    """Give ``fitted`` its ``class_weight`` as a dict keyed by ``fit_labels`` (the label it is fitted on,
    per class), for the classes of the expanded rows ``class_index``; nothing when there is none.

    The estimator applies the dict as it applies class weights to hard labels; "balanced" is computed
    from the soft counts, which its own would take from the expanded rows. CatBoost's ``class_weights``
    cannot be cloned by scikit-learn, so it never reaches a route.
    """
    if fitted.get_params(deep=False).get("class_weight") is None:  # none given, or folded into the weights
        return
    multipliers = student_class_weights(estimator, soft_labels, classes, sample_weight)
    present = np.flatnonzero(np.bincount(class_index, minlength=len(classes)))
    labels = np.asarray(fit_labels)[present].tolist()
    fitted.set_params(class_weight={label: float(multipliers[k]) for label, k in zip(labels, present)})


def _with_users_class_weight(fitted, estimator):
    """``fitted`` with ``estimator``'s own ``class_weight`` back in its parameters (the dict computed for
    the expanded rows, keyed by their labels or positions, has served its fit): a clone of the fitted
    student fits as the user's student does."""
    params = estimator.get_params(deep=False)
    if "class_weight" in params:
        fitted.set_params(class_weight=params["class_weight"])
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
