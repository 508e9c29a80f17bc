"""Regressors as students: fitted to the soft targets, or to their log (tempered logits)."""

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import clone
from sklearn.multioutput import MultiOutputRegressor
from sklearn.utils import _safe_indexing, get_tags
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._soft_label_classifier import SoftLabelClassifier, as_given_or_checked

# Soft targets below exp(-30) are treated as exp(-30) in log space: a regressor should not chase
# log-probabilities of -700 for classes the teacher rules out.
_LOG_FLOOR = -30.0


class RegressorStudent(SoftLabelClassifier):
    """A fitted regressor turned into a classifier: what ``student_`` is on the regression routes.

    ``DistilledClassifier`` builds and fits it with :meth:`fit_soft`; :meth:`fit` trains it on hard
    labels (one-hot targets), like any classifier.

    Parameters
    ----------
    estimator : regressor
        The regressor (a template; the fitted one is ``estimator_``).
    target : {"proba", "logits"}
        ``"proba"``: the regressor predicts the soft targets ``q``; ``predict_proba`` clips negative
        predictions to 0 and renormalises each row (a row predicted all <= 0 becomes uniform).
        ``"logits"``: it predicts ``log(q)``, centred per row (for ``alpha=0``, the teacher's logits
        divided by ``T``, up to a per-row constant); ``predict_proba`` is their softmax.

    Attributes
    ----------
    estimator_ : regressor
        The fitted regressor, one output per class (wrapped in ``MultiOutputRegressor`` when it
        predicts a single output).
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import Ridge
    >>> from skdistill import RegressorStudent
    >>> X, y = load_iris(return_X_y=True)
    >>> student = RegressorStudent(Ridge(), target="logits").fit(X, y)
    >>> student.predict_proba(X[:2]).sum(axis=1).round(6).tolist()
    [1.0, 1.0]
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"])],
        "target": [StrOptions({"proba", "logits"})],
    }

    def __init__(self, estimator, target="logits"):
        self.estimator = estimator
        self.target = target

    def fit_soft(self, X, soft_labels, classes, sample_weight=None):
        """Fit the regressor to ``soft_labels`` (or their log), one output per class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        soft_labels : ndarray of shape (n_samples, n_classes)
        classes : ndarray of shape (n_classes,)
        sample_weight : ndarray of shape (n_samples,), default=None

        Returns
        -------
        self : RegressorStudent
        """
        self._validate_params()
        X = as_given_or_checked(X, validate_data(self, X))
        regressor = clone(self.estimator)
        if not get_tags(regressor).target_tags.multi_output:
            regressor = MultiOutputRegressor(regressor)
        targets = soft_labels
        if self.target == "logits":
            log_q = np.maximum(np.log(np.maximum(soft_labels, np.finfo(float).tiny)), _LOG_FLOOR)
            targets = log_q - log_q.mean(axis=1, keepdims=True)
        fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
        self.estimator_ = regressor.fit(X, targets, **fit_params)
        self.classes_ = np.asarray(classes)
        self._predict_raw(_safe_indexing(X, slice(0, 1)))  # a wrong output shape fails here, not at predict
        return self

    def _predict_raw(self, X):
        raw = np.asarray(self.estimator_.predict(X), dtype=np.float64)
        if raw.ndim == 1 and len(self.classes_) == 1:
            raw = raw[:, None]  # regressors return a vector for a single target column
        expected = (raw.shape[0], len(self.classes_))
        if raw.ndim != 2 or raw.shape != expected:
            raise ValueError(
                f"The regressor student {type(self.estimator).__name__} must predict one output per class, "
                f"shape (n_samples, {len(self.classes_)}); it returned shape {raw.shape}."
            )
        return raw

    def predict_proba(self, X):
        """Class probabilities: valid (non-negative, rows summing to 1) whatever the regressor predicts.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        raw = self._predict_raw(as_given_or_checked(X, validate_data(self, X, reset=False)))
        if self.target == "logits":
            return softmax(raw, axis=1)
        clipped = np.clip(raw, 0.0, None)
        totals = clipped.sum(axis=1, keepdims=True)
        uniform = np.full_like(clipped, 1.0 / clipped.shape[1])
        return np.divide(clipped, totals, out=uniform, where=totals > 0)

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba` (a stable ``log_softmax`` on the logits route).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        if self.target == "logits":
            check_is_fitted(self)
            return log_softmax(self._predict_raw(as_given_or_checked(X, validate_data(self, X, reset=False))), axis=1)
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))
