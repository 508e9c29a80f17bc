"""A Gini decision tree grown on soft labels, at the cost of one ordinary tree fit.

With soft target rows ``q_i``, the "soft Gini" impurity of a node is ``1 - sum_c p_c**2`` where
``p = mean(q_i)`` over the node's rows (weighted). A multi-output regression tree on ``q`` with squared
error has node impurity ``(mean(sum_c q_ic**2) - sum_c p_c**2) / K`` (scikit-learn averages over the K
outputs): the two differ by a term whose weighted sum over the children equals the parent's, and by
the factor 1/K, so every split's impurity decrease is the soft-Gini one divided by K and the tree
grown is the same. ``min_impurity_decrease`` and ``ccp_alpha`` are divided by K to match.
``class_weight`` is exact too: row ``i`` gets weight ``w_i * sum_c q_ic cw_c`` and target
``q_ic cw_c / sum_c q_ic cw_c``; ``"balanced"`` counts rows, not their sample weights, as the tree
does for hard labels. The regression tree's structure is then installed in a clone of the
user's ``DecisionTreeClassifier``, leaves holding soft class distributions.
"""

import numpy as np
from sklearn.base import clone
from sklearn.tree import DecisionTreeRegressor
from sklearn.tree._tree import Tree

from ._soft_class_weight import student_class_weights

# Parameters a DecisionTreeRegressor shares with the classifier (criterion and class_weight differ).
_SHARED_PARAMETERS = (
    "splitter",
    "max_depth",
    "min_samples_split",
    "min_samples_leaf",
    "min_weight_fraction_leaf",
    "max_features",
    "random_state",
    "max_leaf_nodes",
    "min_impurity_decrease",
    "ccp_alpha",
)


def supports_soft_gini(estimator):
    """Whether ``estimator`` (a DecisionTreeClassifier) can be grown exactly by this route."""
    return (
        getattr(estimator, "criterion", None) == "gini"
        and getattr(estimator, "class_weight", None) != "balanced_subsample"
        and getattr(estimator, "monotonic_cst", None) is None
    )


def fit_soft_tree(estimator, X, soft_labels, classes, sample_weight=None):
    """Grow a clone of ``estimator`` on soft labels with the soft Gini criterion.

    Parameters
    ----------
    estimator : DecisionTreeClassifier
        With ``criterion="gini"`` and no ``monotonic_cst``; ``class_weight`` may be a dict or
        ``"balanced"`` (computed from weighted soft counts).
    X : array-like of shape (n_samples, n_features)
    soft_labels : ndarray of shape (n_samples, n_classes)
    classes : ndarray of shape (n_classes,)
    sample_weight : ndarray of shape (n_samples,), default=None

    Returns
    -------
    DecisionTreeClassifier
        A fitted clone whose leaves hold the (weighted) mean soft label of their rows.
    """
    n_classes = len(classes)
    params = {name: estimator.get_params(deep=False)[name] for name in _SHARED_PARAMETERS}
    # scikit-learn's multi-output impurity is averaged over the K outputs: scale the thresholds.
    params["min_impurity_decrease"] /= n_classes
    params["ccp_alpha"] /= n_classes
    class_weights = student_class_weights(estimator, soft_labels, classes, sample_weight)
    weighted = soft_labels * class_weights
    row_mass = weighted.sum(axis=1)
    row_weight = row_mass if sample_weight is None else np.asarray(sample_weight) * row_mass
    regressor = DecisionTreeRegressor(criterion="squared_error", **params)
    regressor.fit(X, weighted / row_mass[:, None], sample_weight=row_weight)

    state = regressor.tree_.__getstate__()
    values = state["values"].reshape(state["node_count"], 1, n_classes)  # (nodes, outputs=1, classes)
    nodes = state["nodes"].copy()
    nodes["impurity"] = 1.0 - (values[:, 0, :] ** 2).sum(axis=1)  # report the soft Gini impurity
    tree = Tree(regressor.n_features_in_, np.array([n_classes], dtype=np.intp), 1)
    tree.__setstate__({**state, "nodes": nodes, "values": values})

    fitted = clone(estimator)
    fitted.tree_ = tree
    fitted.classes_ = np.asarray(classes)
    fitted.n_classes_ = n_classes
    fitted.n_outputs_ = 1
    fitted.n_features_in_ = regressor.n_features_in_
    fitted.max_features_ = regressor.max_features_
    if hasattr(regressor, "feature_names_in_"):
        fitted.feature_names_in_ = regressor.feature_names_in_
    return fitted
