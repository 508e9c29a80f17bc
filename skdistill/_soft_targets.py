"""Soft targets: pure numpy functions, no estimator state. Easy to check against their formulas."""

import numpy as np
from scipy.special import softmax

# Marks a row without a label in an array of class indices (rows the teacher alone labels).
UNLABELLED = -1


def tempered_softmax(logits, T):
    """``softmax(logits / T)`` along the class axis.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_classes)
    T : float
        Temperature, > 0.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
    """
    return softmax(np.asarray(logits, dtype=np.float64) / T, axis=1)


def soft_targets(teacher_logits, y, T, alpha):
    """``q = alpha * onehot(y) + (1 - alpha) * softmax(teacher_logits / T)``, row by row.

    Rows whose label is :data:`UNLABELLED` (or all rows when ``y`` is None) take the teacher's part only:
    ``q = softmax(teacher_logits / T)``.

    Parameters
    ----------
    teacher_logits : ndarray of shape (n_samples, n_classes)
    y : ndarray of shape (n_samples,) of int, or None
        Class index of each row, or ``UNLABELLED``.
    T : float
    alpha : float

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        Non-negative, rows sum to 1.
    """
    q = tempered_softmax(teacher_logits, T)
    if y is None or alpha == 0:
        return q
    labelled = np.flatnonzero(np.asarray(y) != UNLABELLED)
    q[labelled] *= 1.0 - alpha
    q[labelled, np.asarray(y)[labelled]] += alpha
    return q
