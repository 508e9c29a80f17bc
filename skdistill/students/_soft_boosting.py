"""LightGBM and XGBoost students trained on the soft cross-entropy, at the cost of one ordinary fit.

Gradient boosting needs only the gradient and hessian of its loss with respect to the raw scores. For
the soft cross-entropy ``-sum_c q_c log p_c`` with ``p = softmax(s)`` they are ``p - q`` and (the
diagonal) ``p (1 - p)``; with two classes, one raw score and ``p = sigmoid(s)``, the same formulas with
``q`` the soft label of the second class. Each library's custom-objective API (public) takes them:
LightGBM's ``objective=callable`` and XGBoost's, both through their scikit-learn classes, so the user's
parameters (``n_estimators``, ``learning_rate``, ``num_leaves``, ``max_depth``, ``reg_*``, ``n_jobs``,
``random_state``, ...) reach the booster as the library itself translates them. The hessian follows
each library's own convention, so that hard labels give the library's own model: LightGBM scales the
multiclass hessian by ``K / (K - 1)``, XGBoost by 2 (and floors it at 1e-16).

Boosting starts from the log of the (weighted) soft class prior, as the libraries' own
``boost_from_average`` does for hard labels; a custom objective gets no such start, so it is given as
the training rows' initial score and kept in :class:`BoostingStudent` (``init_score_``), which adds it
to the booster's raw scores. Nothing of the soft labels stays in the fitted model. ``class_weight``
(LightGBM's) is folded into the soft labels and row weights exactly (see
:func:`~skdistill.students._soft_class_weight.fold_class_weights`); its ``"balanced"`` counts rows,
not their sample weights, as LightGBM does for hard labels. XGBoost has no ``class_weight``: one among
an ``XGBClassifier``'s keyword arguments is ignored, as XGBoost's own fit ignores it (with a warning).

A custom objective replaces the library's loss, so a user's own objective (a callable) is refused,
as are settings that only the library's built-in objectives honour (``scale_pos_weight``,
``is_unbalance``, ``base_score``, ``boost_from_average`` aside): the ``"sample_weight"`` route keeps
them. Multiclass raw scores arrive as ``(n_samples, n_classes)`` arrays in LightGBM >= 4.0 and
XGBoost >= 2.0; older versions (another layout) are refused and go by the ``"sample_weight"`` route.
"""

import re
import sys

import numpy as np
from scipy.sparse import csr_matrix, issparse
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted, validate_data

from ._soft_class_weight import fold_class_weights, student_class_weights
from ._soft_label_classifier import SoftLabelClassifier, as_given_or_checked

__all__ = ["BoostingStudent", "booster_library", "soft_cross_entropy_gradients"]

# LightGBM and XGBoost take NaN (missing values) and sparse matrices; the dtype is theirs to choose.
_VALIDATION = {"accept_sparse": ["csr", "csc"], "ensure_all_finite": "allow-nan", "dtype": None}

# The soft class prior is floored here before its log, as LightGBM floors class probabilities.
_PRIOR_FLOOR = 1e-15

# The objectives (by library) that are the cross-entropy of a softmax or a sigmoid: the route trains
# exactly these, on soft labels. Any other string objective (one-vs-all, hinge) goes by "sample_weight".
_SOFTMAX_OBJECTIVES = {
    "lightgbm": {None, "binary", "multiclass", "softmax", "multiclass_softmax"},
    "xgboost": {None, "binary:logistic", "multi:softprob", "multi:softmax"},
}
# Parameter names a library reads its objective from (LightGBM's aliases included).
OBJECTIVE_PARAMETERS = ("objective", "obj", "fobj", "objective_type", "app", "application", "loss")
# Settings the library's built-in objectives honour and a custom objective would silently drop.
_BUILT_IN_OBJECTIVE_SETTINGS = {
    "lightgbm": {
        "is_unbalance": (False,),
        "unbalance": (False,),
        "unbalanced_sets": (False,),
        "scale_pos_weight": (None, 1.0),
        "sigmoid": (None, 1.0),
    },
    "xgboost": {"scale_pos_weight": (None, 1.0), "base_score": (None,)},
}
_MINIMUM_VERSIONS = {"lightgbm": (4, 0), "xgboost": (2, 0)}


def booster_library(estimator):
    """``"lightgbm"`` or ``"xgboost"`` if ``estimator`` is that library's classifier, else None.

    The library is not imported here: an estimator of it exists only if it was imported already.
    """
    lightgbm, xgboost = sys.modules.get("lightgbm"), sys.modules.get("xgboost")
    if lightgbm is not None and isinstance(estimator, lightgbm.LGBMClassifier):
        return "lightgbm"
    if xgboost is not None and isinstance(estimator, xgboost.XGBClassifier):
        return "xgboost"
    return None


def user_objective(estimator):
    """The name of a parameter of ``estimator`` holding an objective function of the user's own, or None."""
    params = estimator.get_params(deep=False)
    for name in OBJECTIVE_PARAMETERS:
        if callable(params.get(name)):
            return name
    return None


def why_booster_refused(estimator):
    """Why :class:`BoostingStudent` cannot train ``estimator`` on the soft cross-entropy, or None."""
    library = booster_library(estimator)
    name = type(estimator).__name__
    if library is None:
        return f"{name} is not a LightGBM or XGBoost classifier"
    version = _version(sys.modules[library].__version__)
    if version < _MINIMUM_VERSIONS[library]:
        minimum = ".".join(map(str, _MINIMUM_VERSIONS[library]))
        return f"{library} {sys.modules[library].__version__} is older than {minimum}, whose raw-score layout it needs"
    params = estimator.get_params(deep=False)
    if params.get("objective") not in _SOFTMAX_OBJECTIVES[library]:
        return (
            f"its objective={params.get('objective')!r} is not the softmax (or logistic) cross-entropy that "
            "soft labels train"
        )
    for setting, neutral in _BUILT_IN_OBJECTIVE_SETTINGS[library].items():
        if setting in params and params[setting] not in neutral:
            return f"{setting}={params[setting]!r} is honoured by {library}'s built-in objectives only"
    return None


def soft_cross_entropy_gradients(raw_scores, soft_labels, row_weight=None, hessian_scale=1.0):
    """Gradient and hessian of the soft cross-entropy with respect to the raw scores.

    Parameters
    ----------
    raw_scores : ndarray of shape (n_samples, n_classes) or (n_samples,)
        Raw scores: of a softmax, or (a vector) of a sigmoid for two classes.
    soft_labels : ndarray of the shape of ``raw_scores``
        Soft labels (for a sigmoid: the probability of the second class).
    row_weight : ndarray of shape (n_samples,), default=None
        Multiplies each row's gradient and hessian.
    hessian_scale : float, default=1.0
        Multiplies the hessian (a library's convention: LightGBM ``K / (K - 1)``, XGBoost 2).

    Returns
    -------
    gradient, hessian : ndarrays of the shape of ``raw_scores``
        ``p - q`` and ``hessian_scale * p * (1 - p)``, times ``row_weight``.
    """
    raw_scores = np.asarray(raw_scores, dtype=np.float64)
    if raw_scores.ndim == 1:
        proba = 0.5 * (1.0 + np.tanh(0.5 * raw_scores))  # sigmoid, without overflow
    else:
        proba = np.exp(raw_scores - raw_scores.max(axis=1, keepdims=True))
        proba /= proba.sum(axis=1, keepdims=True)
    gradient = proba - soft_labels
    hessian = proba * (1.0 - proba)
    if hessian_scale != 1.0:
        hessian *= hessian_scale
    if row_weight is not None:
        weight = row_weight if raw_scores.ndim == 1 else row_weight[:, None]
        gradient *= weight
        hessian *= weight
    return gradient, hessian


class _LightGBMObjective:
    """LightGBM's ``objective(y_true, y_pred)``: the soft labels travel with it, not as labels
    (LightGBM's labels are one number per row)."""

    def __init__(self, soft_labels, row_weight, hessian_scale):
        self.soft_labels = soft_labels
        self.row_weight = row_weight
        self.hessian_scale = hessian_scale

    def __call__(self, y_true, y_pred):
        _check_layout(y_pred, self.soft_labels.shape, "lightgbm")
        return soft_cross_entropy_gradients(y_pred, self.soft_labels, self.row_weight, self.hessian_scale)


def _xgboost_objective(y_true, y_pred, *, sample_weight=None):
    """XGBoost's ``objective(y_true, y_pred, sample_weight)``: the soft labels are the (multi-target) labels.

    The hessian follows XGBoost's softmax (``2 p (1 - p)``) and logistic (``p (1 - p)``) objectives,
    floored at 1e-16 as they are.
    """
    y_true = np.asarray(y_true).reshape(np.shape(y_pred))
    _check_layout(y_pred, y_true.shape, "xgboost")
    scale = 1.0 if np.ndim(y_pred) == 1 else 2.0
    gradient, hessian = soft_cross_entropy_gradients(y_pred, y_true, hessian_scale=scale)
    np.maximum(hessian, 1e-16, out=hessian)
    if sample_weight is not None and np.size(sample_weight) > 0:
        weight = sample_weight if gradient.ndim == 1 else sample_weight[:, None]
        gradient *= weight
        hessian *= weight
    return gradient, hessian


def _check_layout(raw_scores, expected_shape, library):
    if np.shape(raw_scores) != tuple(expected_shape):
        raise ValueError(
            f"{library} gave the custom objective raw scores of shape {np.shape(raw_scores)}, expected "
            f"{tuple(expected_shape)}; this {library} version lays them out differently. Use "
            "route='sample_weight' for this student."
        )


class BoostingStudent(SoftLabelClassifier):
    """A LightGBM or XGBoost classifier trained on (soft) labels by the soft cross-entropy.

    What ``student_`` is when an ``LGBMClassifier`` or ``XGBClassifier`` student is distilled by the
    ``"boosting"`` route: the booster trained with the soft cross-entropy as a custom objective, whose
    :meth:`predict_proba` is the softmax (for two classes, the sigmoid) of its raw scores.
    ``DistilledClassifier`` builds and fits it with :meth:`fit_soft`; :meth:`fit` trains it on hard
    labels, like the library's own classifier.

    Parameters
    ----------
    estimator : LGBMClassifier or XGBClassifier
        The template whose parameters the booster is trained with (never fitted itself). Its
        objective must be the library's default (softmax or logistic) one.

    Attributes
    ----------
    booster_ : lightgbm.Booster or xgboost.Booster
        The trained booster. Its raw scores do not include ``init_score_``.
    init_score_ : ndarray of shape (n_classes,) or (1,)
        The raw score boosting started from: the log of the soft class prior (for two classes, its
        log-odds), added to the booster's raw scores.
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of a DataFrame seen in fit.

    See Also
    --------
    skdistill.DistilledClassifier : Trains it with a teacher's soft labels.

    Examples
    --------
    >>> from lightgbm import LGBMClassifier
    >>> from sklearn.datasets import load_iris
    >>> from skdistill import BoostingStudent
    >>> X, y = load_iris(return_X_y=True)
    >>> student = BoostingStudent(LGBMClassifier(n_estimators=20, verbose=-1)).fit(X, y)
    >>> student.predict_proba(X[:2]).sum(axis=1).round(6).tolist()
    [1.0, 1.0]
    """

    _parameter_constraints = {"estimator": [HasMethods(["fit", "predict_proba", "get_params"])]}
    _validation = _VALIDATION
    _needs_two_classes = True

    def __init__(self, estimator):
        self.estimator = estimator

    def fit_soft(self, X, soft_labels, classes, sample_weight=None):
        """Train the booster on the soft cross-entropy of ``soft_labels``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        soft_labels : ndarray of shape (n_samples, n_classes)
            Rows summing to 1, a column per class of ``classes``.
        classes : ndarray of shape (n_classes,)
            At least two.
        sample_weight : ndarray of shape (n_samples,), default=None

        Returns
        -------
        self : BoostingStudent
        """
        self._validate_params()
        reason = why_booster_refused(self.estimator)
        if reason is not None:
            raise ValueError(f"BoostingStudent cannot train {type(self.estimator).__name__}: {reason}.")
        X = as_given_or_checked(X, validate_data(self, X, **_VALIDATION))
        soft_labels = np.asarray(soft_labels, dtype=np.float64)
        params = self.estimator.get_params(deep=False)
        library = booster_library(self.estimator)
        # XGBoost has no class_weight: one given among its keyword arguments is ignored by its own fit
        # (it warns), so it is here too (and XGBoost warns the same).
        multipliers = (
            student_class_weights(self.estimator, soft_labels, classes, sample_weight)
            if library == "lightgbm"
            else np.ones(len(classes))
        )
        soft_labels, row_weight = fold_class_weights(multipliers, soft_labels, sample_weight)
        if row_weight is not None:
            row_weight = np.asarray(row_weight, dtype=np.float64)
        binary = soft_labels.shape[1] == 2
        targets = soft_labels[:, 1] if binary else soft_labels
        self.init_score_ = _initial_score(soft_labels, row_weight, params)
        init_score = np.broadcast_to(self.init_score_[0] if binary else self.init_score_, targets.shape)
        train = _train_lightgbm if library == "lightgbm" else _train_xgboost
        self.booster_ = train(self.estimator, X, targets, row_weight, np.ascontiguousarray(init_score))
        self.classes_ = np.asarray(classes)
        return self

    def decision_function(self, X):
        """Raw scores: the booster's plus ``init_score_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) for two classes, else (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = as_given_or_checked(X, validate_data(self, X, reset=False, **_VALIDATION))
        if booster_library(self.estimator) == "lightgbm":
            raw = self.booster_.predict(X, raw_score=True)
        else:
            missing = self.estimator.get_params(deep=False).get("missing", np.nan)
            if issparse(X):
                X = csr_matrix(X)  # XGBoost's inplace_predict takes a csr_matrix only (not CSC, not sparse arrays)
            raw = self.booster_.inplace_predict(X, predict_type="margin", missing=missing)
        raw = np.asarray(raw, dtype=np.float64)
        return raw + (self.init_score_[0] if raw.ndim == 1 else self.init_score_)

    def predict_proba(self, X):
        """Class probabilities: the softmax of the raw scores (the sigmoid for two classes).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        raw = self.decision_function(X)
        if raw.ndim == 1:
            positive = 0.5 * (1.0 + np.tanh(0.5 * raw))
            return np.column_stack([1.0 - positive, positive])
        proba = np.exp(raw - raw.max(axis=1, keepdims=True))
        return proba / proba.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        return tags





def _initial_score(soft_labels, row_weight, params):
    """The log of the weighted soft class prior (its log-odds for two classes); 0 without ``boost_from_average``."""
    n_outputs = 1 if soft_labels.shape[1] == 2 else soft_labels.shape[1]
    if params.get("boost_from_average") is False:
        return np.zeros(n_outputs)
    prior = np.average(soft_labels, axis=0, weights=row_weight)
    log_prior = np.log(np.maximum(prior, _PRIOR_FLOOR))
    return np.array([log_prior[1] - log_prior[0]]) if n_outputs == 1 else log_prior


def _train_lightgbm(estimator, X, targets, row_weight, init_score):
    """A LightGBM booster trained on ``targets`` with the user's parameters and the soft objective."""
    import lightgbm

    n_classes = 2 if targets.ndim == 1 else targets.shape[1]
    ignored = ("class_weight", "num_class")  # applied to the soft labels; set from them
    params = {key: value for key, value in estimator.get_params(deep=False).items() if key not in ignored}
    hessian_scale = 1.0 if n_classes == 2 else n_classes / (n_classes - 1)
    params["objective"] = _LightGBMObjective(targets, row_weight, hessian_scale)
    params.setdefault("metric", "None")
    if n_classes > 2:
        params["num_class"] = n_classes
    # LGBMModel: LightGBM's own scikit-learn class, which translates the parameters as LGBMClassifier
    # does, without requiring the labels (there are none: the targets travel with the objective).
    model = lightgbm.LGBMModel(**params)
    model.fit(X, np.zeros(len(targets)), init_score=init_score)
    return model.booster_


def _train_xgboost(estimator, X, targets, row_weight, init_score):
    """An XGBoost booster trained on ``targets`` (multi-target labels) with the user's parameters."""
    import xgboost

    params = {key: value for key, value in estimator.get_params(deep=False).items() if key != "num_class"}
    # XGBRegressor: XGBoost's own scikit-learn class for (multi-target) real labels; base_score=0 so
    # that the raw scores are the trees' alone (the start is the base margin, kept in init_score_).
    params.update(objective=_xgboost_objective, base_score=0.0)
    model = xgboost.XGBRegressor(**params)
    model.fit(X, targets, sample_weight=row_weight, base_margin=init_score)
    return model.get_booster()


def _version(text):
    """The (major, minor) of a version string such as ``"4.7.0"`` or ``"2.1.0rc1"``."""
    return tuple(int(re.match(r"\d*", part).group() or 0) for part in text.split(".")[:2])
