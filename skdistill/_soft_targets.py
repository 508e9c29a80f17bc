"""Soft targets: pure numpy functions, no estimator state. Easy to check against their formulas."""

import numpy as np
from scipy.special import softmax

# Marks a row without a label in an array of class indices (rows the teacher alone labels).
UNLABELLED = -1


# Rows tempered at a time: the float64 temporaries of softmax are a chunk, not n x n_classes (three
# float64 copies of the logits, 240 MB at 1M x 10, when computed on all rows at once).
_CHUNK_ROWS = 16384


def tempered_softmax(logits, T):
    """``softmax(logits / T)`` along the class axis, in float64, a chunk of rows at a time.

    Parameters
    ----------
    logits : ndarray of shape (n_samples, n_classes)
    T : float
        Temperature, > 0.

    Returns
    -------
    ndarray of shape (n_samples, n_classes), float64
    """
    logits = np.asarray(logits)
    proba = np.empty(logits.shape, dtype=np.float64)
    for start in range(0, len(logits), _CHUNK_ROWS):
        rows = slice(start, start + _CHUNK_ROWS)
        proba[rows] = softmax(logits[rows].astype(np.float64) / T, axis=1)
    return proba


def soft_targets(teacher_logits, y, T, alpha):
    """``q = alpha * onehot(y) + (1 - alpha) * softmax(teacher_logits / T)``, row by row.

    Rows whose label is :data:`UNLABELLED` (or all rows when ``y`` is None) take the teacher's part only:
    ``q = softmax(teacher_logits / T)``. The result is the only n x n_classes array made.

    Parameters
    ----------
    teacher_logits : ndarray of shape (n_samples, n_classes)
    y : ndarray of shape (n_samples,) of int, or None
        Class index of each row, or ``UNLABELLED``.
    T : float
    alpha : float

    Returns
    -------
    ndarray of shape (n_samples, n_classes), float64
        Non-negative, rows sum to 1.
    """
    q = tempered_softmax(teacher_logits, T)
    if y is None or alpha == 0:
        return q
    y = np.asarray(y)
    for start in range(0, len(q), _CHUNK_ROWS):
        q_rows, y_rows = q[start : start + _CHUNK_ROWS], y[start : start + _CHUNK_ROWS]
        labelled = np.flatnonzero(y_rows != UNLABELLED)
        q_rows[labelled] *= 1.0 - alpha
        q_rows[labelled, y_rows[labelled]] += alpha
    return q


def align_classes(teacher_classes, y, *, labels_name="y", hint=""):
    """The sorted classes and, for each, the index of the teacher's column that scores it.

    Labels are matched by value, so a teacher whose columns are in any order works; every label in
    ``y`` must be one the teacher scores.

    Parameters
    ----------
    teacher_classes : array-like of shape (n_classes,)
        The label of each of the teacher's columns, in column order.
    y : array-like or None
        Labels that must all be among ``teacher_classes``.
    labels_name : str, default="y"
        What the error calls ``y`` (``"classes"`` for the ``classes`` of ``partial_fit``).
    hint : str or callable, default=""
        Appended to the error about labels the teacher does not score; a callable is called with the
        distinct labels of ``y`` to make it, only then.

    Returns
    -------
    classes : ndarray of shape (n_classes,)
        Sorted.
    columns : ndarray of shape (n_classes,) of int
        ``teacher_classes[columns] == classes``.
    """
    teacher_labels = np.asarray(teacher_classes).tolist()
    if y is not None:
        labels = np.unique(y).tolist()
        unknown = set(labels) - set(teacher_labels)
        if unknown:
            hint = hint(labels) if callable(hint) else hint
            raise ValueError(
                f"{labels_name} has labels the teacher does not score: {sorted(unknown, key=str)!r}. The teacher "
                f"scores {teacher_labels!r}.{hint}"
            )
    classes = np.sort(teacher_classes)
    column_of = {label: column for column, label in enumerate(teacher_labels)}
    return classes, np.array([column_of[label] for label in classes.tolist()])


def encoded_labels_hint(teacher_classes, y):
    """Why ``fit``'s ``y`` may hold labels a trained teacher does not score, when it is 0..n_classes-1.

    Parameters
    ----------
    teacher_classes : array-like of shape (n_classes,)
    y : array-like
        Its distinct labels will do.

    Returns
    -------
    str
        A sentence to add to the error, or ``""``.
    """
    labels, teacher_labels = np.unique(y).tolist(), np.asarray(teacher_classes).tolist()
    if labels == list(range(len(labels))) and labels != teacher_labels[: len(labels)]:
        return (
            " y's labels are 0..n_classes-1: a scikit-learn VotingClassifier, StackingClassifier or "
            "CalibratedClassifierCV fits the distiller on y encoded so, which a trained teacher does not "
            "know. Use the distiller outside it, or pass the teacher unfitted."
        )
    return ""


def aligned_logits(parts, columns):
    """The teacher's logits of all ``parts`` (stacked by rows), columns taken in the order ``columns``.

    Copies only when needed: the result may be the teacher's own (read-only, cached) array, which
    students never write into.

    Parameters
    ----------
    parts : list of ndarray of shape (n_rows_i, n_classes)
    columns : ndarray of shape (n_classes,) of int

    Returns
    -------
    ndarray of shape (sum of n_rows_i, n_classes)
    """
    logits = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return logits if np.array_equal(columns, np.arange(len(columns))) else logits[:, columns]


def blended_targets(teacher_outputs, y, alpha):
    """``alpha * y + (1 - alpha) * teacher_outputs``, row by row: the regression student's target.

    For squared error, ``alpha * (s - y)**2 + (1 - alpha) * (s - t)**2`` equals ``(s - b)**2`` plus a
    term free of ``s``, with ``b`` this blend: fitting ``b`` is fitting the weighted objective.

    Parameters
    ----------
    teacher_outputs : ndarray of shape (n_samples, n_outputs)
    y : ndarray of shape (n_samples, n_outputs), or None
        NaN on rows without a target, which take the teacher's outputs alone.
    alpha : float

    Returns
    -------
    ndarray of shape (n_samples, n_outputs), float64
    """
    blend = np.array(teacher_outputs, dtype=np.float64)  # a copy: the teacher's may be cached, read-only
    if y is None or alpha == 0:
        return blend
    labelled = ~np.isnan(y).any(axis=1)
    blend[labelled] = alpha * y[labelled] + (1.0 - alpha) * blend[labelled]
    return blend
