"""``class_weight`` on soft labels: the per-class multipliers the student's library would use for hard labels.

Libraries count classes differently for ``"balanced"`` when rows carry sample weights. scikit-learn's
logistic regressions and forests count each class's sample weights (``compute_class_weight(...,
sample_weight=...)``, which exists from scikit-learn 1.7); its ``DecisionTreeClassifier``,
``HistGradientBoostingClassifier``, ``SGDClassifier`` and ``SVC``, and LightGBM, count rows
(``compute_sample_weight(class_weight, y)``), whatever their weights.
:func:`student_class_weights` follows the student's own rule, so that at ``alpha=1`` (and no
unlabelled transfer rows) the distilled student is the one its library fits on the labels.
"""

import inspect

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.utils.class_weight import compute_class_weight

# A class whose weighted soft count is below this share of the total weight is treated as absent:
# "balanced" must not multiply a class the teacher rules out (q ~ 1e-75) by 1e75.
NEGLIGIBLE_CLASS_SHARE = 1e-6

# Students whose "balanced" counts classes with the sample weights (scikit-learn 1.9: _logistic.py and
# _forest.py pass sample_weight to compute_class_weight), from the version whose compute_class_weight
# takes sample_weight. Every other student counts rows.
_COUNTS_WEIGHTED_ROWS = (
    (LogisticRegression, LogisticRegressionCV, RandomForestClassifier, ExtraTreesClassifier)
    if "sample_weight" in inspect.signature(compute_class_weight).parameters
    else ()
)


def counts_weighted_rows(estimator):
    """Whether ``estimator``'s own ``class_weight="balanced"`` counts each class's sample weights, not its rows."""
    return isinstance(estimator, _COUNTS_WEIGHTED_ROWS)


def student_class_weights(estimator, soft_labels, classes, sample_weight=None):
    """The multipliers of ``estimator``'s ``class_weight``, counted as its library counts (see the module).

    Parameters
    ----------
    estimator : classifier
        Its ``class_weight`` parameter (absent: None) is read through ``get_params``.
    soft_labels : ndarray of shape (n_samples, n_classes)
    classes : ndarray of shape (n_classes,)
    sample_weight : ndarray of shape (n_samples,), default=None

    Returns
    -------
    ndarray of shape (n_classes,)
    """
    class_weight = estimator.get_params(deep=False).get("class_weight")
    counted_weight = sample_weight if counts_weighted_rows(estimator) else None
    return soft_class_weights(class_weight, soft_labels, classes, counted_weight)


def soft_class_weights(class_weight, soft_labels, classes, sample_weight=None):
    """One multiplier per class (column of ``soft_labels``) for ``class_weight``.

    ``"balanced"`` is ``S / (n_classes * S_c)``, ``compute_class_weight``'s formula on soft counts:
    ``S_c = sum_i w_i q_ic`` is the soft count of class ``c`` and ``S = sum_i w_i``, with ``w_i = 1``
    when ``sample_weight`` is None. Classes with a negligible soft count get 1.

    Parameters
    ----------
    class_weight : dict, "balanced" or None
    soft_labels : ndarray of shape (n_samples, n_classes)
    classes : ndarray of shape (n_classes,)
        The label of each column (the keys of a dict ``class_weight``).
    sample_weight : ndarray of shape (n_samples,), default=None
        The weights counted by ``"balanced"`` (None: rows are counted).

    Returns
    -------
    ndarray of shape (n_classes,)
    """
    n_classes = soft_labels.shape[1]
    if class_weight is None:
        return np.ones(n_classes)
    if isinstance(class_weight, dict):
        return np.array([float(class_weight.get(label, 1.0)) for label in np.asarray(classes).tolist()])
    if class_weight != "balanced":
        raise ValueError(
            f"class_weight={class_weight!r} is not supported on soft labels; use a dict, 'balanced' or None."
        )
    weight = np.ones(len(soft_labels)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    soft_counts = weight @ soft_labels
    total = weight.sum()
    present = soft_counts > NEGLIGIBLE_CLASS_SHARE * total
    multipliers = np.ones(n_classes)
    multipliers[present] = total / (n_classes * soft_counts[present])
    return multipliers


def fold_class_weights(multipliers, soft_labels, sample_weight=None):
    """Soft labels and row weights whose soft cross-entropy is the class-weighted one.

    The class-weighted soft cross-entropy ``sum_i w_i sum_c cw_c q_ic (-log p_ic)`` equals
    ``sum_i (w_i m_i) sum_c q'_ic (-log p_ic)`` with ``m_i = sum_c cw_c q_ic`` and
    ``q'_ic = cw_c q_ic / m_i``: the same gradients ``w_i m_i (p_i - q'_i)`` and hessians
    ``w_i m_i p_i (1 - p_i)``. A learner of the plain soft cross-entropy learns the weighted one from
    ``q'`` and ``w m``.

    Parameters
    ----------
    multipliers : ndarray of shape (n_classes,)
        From :func:`soft_class_weights`.
    soft_labels : ndarray of shape (n_samples, n_classes)
    sample_weight : ndarray of shape (n_samples,), default=None

    Returns
    -------
    soft_labels : ndarray of shape (n_samples, n_classes)
        ``q'``, rows summing to 1 (``soft_labels`` itself when every multiplier is 1).
    row_weight : ndarray of shape (n_samples,) or None
        ``w m`` (``sample_weight`` itself when every multiplier is 1).
    """
    if np.all(multipliers == 1.0):
        return soft_labels, sample_weight
    weighted = soft_labels * multipliers
    mass = weighted.sum(axis=1)
    folded = np.divide(weighted, mass[:, None], out=np.array(soft_labels, dtype=np.float64), where=mass[:, None] > 0)
    row_weight = mass if sample_weight is None else np.asarray(sample_weight, dtype=np.float64) * mass
    return folded, row_weight
