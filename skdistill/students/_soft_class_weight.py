"""``class_weight`` on soft labels: the per-class multipliers scikit-learn would use for hard labels."""

import numpy as np

# A class whose weighted soft count is below this share of the total weight is treated as absent:
# "balanced" must not multiply a class the teacher rules out (q ~ 1e-75) by 1e75.
_NEGLIGIBLE_CLASS_SHARE = 1e-6


def soft_class_weights(class_weight, soft_labels, classes, sample_weight=None):
    """One multiplier per class (column of ``soft_labels``) for ``class_weight``.

    ``"balanced"`` is ``S / (n_classes * S_c)``, as scikit-learn computes it from weighted counts, with
    ``S_c = sum_i w_i q_ic`` the weighted soft count of class ``c`` and ``S = sum_i w_i``. Classes with
    a negligible soft count get 1.

    Parameters
    ----------
    class_weight : dict, "balanced" or None
    soft_labels : ndarray of shape (n_samples, n_classes)
    classes : ndarray of shape (n_classes,)
        The label of each column (the keys of a dict ``class_weight``).
    sample_weight : ndarray of shape (n_samples,), default=None

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
    present = soft_counts > _NEGLIGIBLE_CLASS_SHARE * total
    multipliers = np.ones(n_classes)
    multipliers[present] = total / (n_classes * soft_counts[present])
    return multipliers
