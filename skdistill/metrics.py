"""Fidelity: how closely a student imitates its teacher. Functions, and scorers for model selection.

Measure fidelity on held-out data: on the training rows a student can agree with its teacher by
memorising.
"""

import numpy as np
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.pipeline import Pipeline

__all__ = [
    "fidelity_score",
    "fidelity_scorer",
    "kl_divergence",
    "mean_absolute_difference",
    "neg_kl_divergence_scorer",
    "neg_mean_absolute_difference_scorer",
    "neg_total_variation_scorer",
    "regression_fidelity_scorer",
    "regression_fidelity_score",
    "total_variation",
]


def fidelity_score(teacher_labels, student_labels, *, sample_weight=None):
    """Top-1 agreement: the share of rows where student and teacher predict the same class.

    Parameters
    ----------
    teacher_labels : array-like of shape (n_samples,)
    student_labels : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    float
        In [0, 1]; 1 means the student always agrees with the teacher.

    Examples
    --------
    >>> from skdistill.metrics import fidelity_score
    >>> fidelity_score(["a", "b", "b", "c"], ["a", "b", "c", "c"])
    0.75
    """
    agree = np.asarray(teacher_labels) == np.asarray(student_labels)
    return float(np.average(agree, weights=sample_weight))


def kl_divergence(teacher_proba, student_proba, *, sample_weight=None):
    """Mean ``KL(teacher || student)`` over rows, in nats.

    Parameters
    ----------
    teacher_proba : array-like of shape (n_samples, n_classes)
    student_proba : array-like of shape (n_samples, n_classes)
        Same column order as ``teacher_proba``.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    float
        0 when the distributions are equal; ``inf`` if the student gives probability 0 to a class
        the teacher does not.

    Examples
    --------
    >>> from skdistill.metrics import kl_divergence
    >>> kl_divergence([[0.5, 0.5]], [[0.5, 0.5]])
    0.0
    """
    p, q = _check_pair(teacher_proba, student_proba)
    return float(np.average(_kl_per_row(p, q), weights=sample_weight))


def total_variation(teacher_proba, student_proba, *, sample_weight=None):
    """Mean total variation distance ``0.5 * sum_c |p_c - q_c|`` over rows.

    Parameters
    ----------
    teacher_proba : array-like of shape (n_samples, n_classes)
    student_proba : array-like of shape (n_samples, n_classes)
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    float
        In [0, 1]: the largest difference in probability the two give to any set of classes.

    Examples
    --------
    >>> from skdistill.metrics import total_variation
    >>> total_variation([[1.0, 0.0]], [[0.25, 0.75]])
    0.75
    """
    p, q = _check_pair(teacher_proba, student_proba)
    return float(np.average(_total_variation_per_row(p, q), weights=sample_weight))


def regression_fidelity_score(teacher_predictions, student_predictions, *, sample_weight=None):
    """R² of the student's predictions against the teacher's: how much of the teacher it explains.

    ``1 - sum((t - s)**2) / sum((t - mean(t))**2)``, averaged uniformly over outputs, as
    :func:`sklearn.metrics.r2_score` with the teacher in the place of the truth.

    Parameters
    ----------
    teacher_predictions : array-like of shape (n_samples,) or (n_samples, n_outputs)
    student_predictions : array-like of the same shape
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    float
        1 when the student predicts exactly as the teacher; 0 for a student no better than the
        teacher's mean; negative when worse.

    Examples
    --------
    >>> from skdistill.metrics import regression_fidelity_score
    >>> regression_fidelity_score([1.0, 2.0, 3.0], [1.0, 2.0, 3.5])
    0.875
    """
    return float(r2_score(teacher_predictions, student_predictions, sample_weight=sample_weight))


def mean_absolute_difference(teacher_predictions, student_predictions, *, sample_weight=None):
    """Mean ``|teacher - student|`` over rows (and outputs), in the targets' units.

    Parameters
    ----------
    teacher_predictions : array-like of shape (n_samples,) or (n_samples, n_outputs)
    student_predictions : array-like of the same shape
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    float
        0 when the student predicts exactly as the teacher.

    Examples
    --------
    >>> from skdistill.metrics import mean_absolute_difference
    >>> mean_absolute_difference([1.0, 2.0], [1.5, 1.0])
    0.75
    """
    return float(mean_absolute_error(teacher_predictions, student_predictions, sample_weight=sample_weight))


def _kl_per_row(p, q, *, floor=None):
    """``KL(p || q)`` of each row of two probability arrays; ``q`` floored at ``floor`` if given (finite scores)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_q = np.log(q) if floor is None else np.log(np.maximum(q, floor))
        terms = np.where(p > 0, p * (np.log(p) - log_q), 0.0)
    return terms.sum(axis=1)


def _total_variation_per_row(p, q):
    """``0.5 * sum_c |p_c - q_c|`` of each row."""
    return 0.5 * np.abs(p - q).sum(axis=1)


def _check_pair(teacher_proba, student_proba):
    p, q = np.asarray(teacher_proba, dtype=np.float64), np.asarray(student_proba, dtype=np.float64)
    if p.shape != q.shape or p.ndim != 2:
        raise ValueError(
            f"teacher_proba and student_proba must both have shape (n_samples, n_classes); got {p.shape} "
            f"and {q.shape}."
        )
    return p, q


def _distiller_and_input(estimator, X):
    """The distiller inside ``estimator`` (itself, or a Pipeline's last step) and its input."""
    if isinstance(estimator, Pipeline):
        return estimator[-1], estimator[:-1].transform(X)
    return estimator, X


def fidelity_scorer(estimator, X, y=None):
    """Scorer: top-1 agreement of a fitted ``DistilledClassifier`` (or a pipeline ending in one) on X.

    Use as ``GridSearchCV(..., scoring=fidelity_scorer)`` or in a ``cross_validate`` scoring dict.

    Parameters
    ----------
    estimator : DistilledClassifier or Pipeline
    X : array-like of shape (n_samples, n_features)
    y : ignored
        Fidelity compares student with teacher; the labels are not needed.

    Returns
    -------
    float

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skdistill import DistilledClassifier
    >>> from skdistill.metrics import fidelity_scorer
    >>> X, y = load_iris(return_X_y=True)
    >>> distiller = DistilledClassifier(LogisticRegression(max_iter=500), DecisionTreeClassifier(max_depth=2))
    >>> scores = cross_val_score(distiller, X, y, cv=3, scoring=fidelity_scorer)
    >>> bool((scores > 0.5).all())
    True
    """
    distiller, X = _distiller_and_input(estimator, X)
    return distiller.fidelity(X, metric="agreement")


def neg_kl_divergence_scorer(estimator, X, y=None):
    """Scorer: minus the mean ``KL(teacher || student)`` on X (greater is better).

    Parameters
    ----------
    estimator : DistilledClassifier or Pipeline
    X : array-like of shape (n_samples, n_features)
    y : ignored

    Returns
    -------
    float

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skdistill import DistilledClassifier
    >>> from skdistill.metrics import neg_kl_divergence_scorer
    >>> X, y = load_iris(return_X_y=True)
    >>> distiller = DistilledClassifier(LogisticRegression(max_iter=500), DecisionTreeClassifier(max_depth=2))
    >>> scores = cross_val_score(distiller, X, y, cv=3, scoring=neg_kl_divergence_scorer)
    >>> bool((scores <= 0).all())
    True
    """
    distiller, X = _distiller_and_input(estimator, X)
    return -distiller.fidelity(X, metric="kl")


def neg_total_variation_scorer(estimator, X, y=None):
    """Scorer: minus the mean total variation between teacher and student on X (greater is better).

    Parameters
    ----------
    estimator : DistilledClassifier or Pipeline
    X : array-like of shape (n_samples, n_features)
    y : ignored

    Returns
    -------
    float

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from skdistill import DistilledClassifier
    >>> from skdistill.metrics import neg_total_variation_scorer
    >>> X, y = load_iris(return_X_y=True)
    >>> distiller = DistilledClassifier(LogisticRegression(max_iter=500), DecisionTreeClassifier(max_depth=2))
    >>> scores = cross_val_score(distiller, X, y, cv=3, scoring=neg_total_variation_scorer)
    >>> bool((scores <= 0).all())
    True
    """
    distiller, X = _distiller_and_input(estimator, X)
    return -distiller.fidelity(X, metric="total_variation")


def regression_fidelity_scorer(estimator, X, y=None):
    """Scorer: R² of a fitted ``DistilledRegressor``'s student against its teacher on X (greater is better).

    Parameters
    ----------
    estimator : DistilledRegressor or Pipeline
    X : array-like of shape (n_samples, n_features)
    y : ignored
        Fidelity compares student with teacher; the targets are not needed.

    Returns
    -------
    float

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from skdistill import DistilledRegressor
    >>> from skdistill.metrics import regression_fidelity_scorer
    >>> X, y = load_diabetes(return_X_y=True)
    >>> distiller = DistilledRegressor(Ridge(), DecisionTreeRegressor(max_depth=4), alpha=0.0)
    >>> scores = cross_val_score(distiller, X, y, cv=3, scoring=regression_fidelity_scorer)
    >>> bool((scores > 0.5).all())
    True
    """
    distiller, X = _distiller_and_input(estimator, X)
    return distiller.fidelity(X, metric="r2")


def neg_mean_absolute_difference_scorer(estimator, X, y=None):
    """Scorer: minus the mean ``|teacher - student|`` of a fitted ``DistilledRegressor`` on X (greater is better).

    Parameters
    ----------
    estimator : DistilledRegressor or Pipeline
    X : array-like of shape (n_samples, n_features)
    y : ignored

    Returns
    -------
    float

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn.tree import DecisionTreeRegressor
    >>> from skdistill import DistilledRegressor
    >>> from skdistill.metrics import neg_mean_absolute_difference_scorer
    >>> X, y = load_diabetes(return_X_y=True)
    >>> distiller = DistilledRegressor(Ridge(), DecisionTreeRegressor(max_depth=4), alpha=0.0)
    >>> scores = cross_val_score(distiller, X, y, cv=3, scoring=neg_mean_absolute_difference_scorer)
    >>> bool((scores <= 0).all())
    True
    """
    distiller, X = _distiller_and_input(estimator, X)
    return -distiller.fidelity(X, metric="mean_absolute_difference")
