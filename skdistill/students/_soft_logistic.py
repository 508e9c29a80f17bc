"""Logistic regression on soft labels: scikit-learn's objective with soft targets, solved exactly.

scikit-learn's ``LogisticRegression`` minimises, for weights ``w`` summing to ``S``,
``(1/S) * sum_i w_i * CE(y_i, softmax(z_i)) + ||coef||^2 / (2 * C * S)`` (intercept unpenalised).
Here ``CE(y_i, .)`` becomes the cross-entropy to a soft target row ``q_i``; the same L-BFGS-B solver
and stopping rule are used, and the result is installed in a clone of the user's own estimator, so
``student_`` is a plain, fully working ``LogisticRegression``.
"""

import contextlib
import warnings

import numpy as np
from scipy import optimize
from scipy.special import expit, log_expit
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import validate_data
from threadpoolctl import threadpool_limits

from ._soft_class_weight import soft_class_weights


def logistic_penalty(estimator):
    """``"l2"``, ``"l1"``, ``"elasticnet"`` or ``None``, across scikit-learn versions.

    scikit-learn 1.8 deprecates ``penalty`` in favour of ``l1_ratio`` (0 is L2) and ``C=np.inf``.
    """
    penalty = getattr(estimator, "penalty", "l2")
    if estimator.C == np.inf or penalty in (None, "none"):
        return None
    if penalty == "deprecated":
        l1_ratio = estimator.l1_ratio
        return "l2" if l1_ratio in (None, 0) else ("l1" if l1_ratio == 1 else "elasticnet")
    return penalty


def _objective(packed, X, weighted_Q, weighted_mass, l2_strength, n_coef_rows, fit_intercept):
    """The weighted soft cross-entropy and its gradient.

    ``weighted_Q = weight * Q`` and ``weighted_mass = weight * Q.sum(axis=1)`` are computed once per
    fit: on small data (digits: 900 x 64, 10 classes) the per-call temporaries were most of the time.
    """
    n_features = X.shape[1]
    coef = packed[: n_coef_rows * n_features].reshape(n_coef_rows, n_features)
    Z = X @ coef.T
    if fit_intercept:
        Z += packed[n_coef_rows * n_features :]
    if n_coef_rows == 1:  # binary: one score z, p(class 1) = sigmoid(z)
        z = Z[:, 0]
        value = -(weighted_Q[:, 1] @ log_expit(z) + weighted_Q[:, 0] @ log_expit(-z))
        grad_Z = (weighted_mass * expit(z) - weighted_Q[:, 1])[:, None]
    else:
        # softmax and its log-normaliser from one exponential
        Z_max = Z.max(axis=1, keepdims=True)
        exp_Z = np.exp(Z - Z_max)
        norm = exp_Z.sum(axis=1)
        log_norm = np.log(norm) + Z_max[:, 0]
        value = weighted_mass @ log_norm - np.vdot(weighted_Q, Z)
        exp_Z *= (weighted_mass / norm)[:, None]
        grad_Z = exp_Z
        grad_Z -= weighted_Q
    value += 0.5 * l2_strength * np.vdot(coef, coef)
    grad_coef = grad_Z.T @ X
    grad_coef += l2_strength * coef
    grad = grad_coef.ravel()
    if fit_intercept:
        grad = np.concatenate([grad, grad_Z.sum(axis=0)])
    return value, grad


def _minimize(X, Q, weight, l2_strength, n_coef_rows, estimator, n_params):
    """L-BFGS-B on the soft objective, with scikit-learn's stopping rule."""
    return optimize.minimize(
        _objective,
        np.zeros(n_params),
        method="L-BFGS-B",
        jac=True,
        args=(X, Q * weight[:, None], Q.sum(axis=1) * weight, l2_strength, n_coef_rows, estimator.fit_intercept),
        options={"maxiter": estimator.max_iter, "maxls": 50, "gtol": estimator.tol, "ftol": 64 * np.finfo(float).eps},
    )


# Entries of X up to which the fit runs on one BLAS thread (the largest size measured).
_ONE_THREAD_UP_TO = 5_000_000


def fit_soft_logistic(estimator, X, soft_labels, classes, sample_weight=None):
    """Fit a clone of ``estimator`` (L2 or no penalty) to soft labels, exactly.

    Parameters
    ----------
    estimator : LogisticRegression
        Its ``C``, ``fit_intercept``, ``class_weight``, ``max_iter`` and ``tol`` are used. Its ``solver``
        is not: the objective is convex, and L-BFGS-B finds the same optimum any solver would.
    X : ndarray of shape (n_samples, n_features)
    soft_labels : ndarray of shape (n_samples, n_classes)
        Target distribution of each row, columns in the order of ``classes``.
    classes : ndarray of shape (n_classes,)
    sample_weight : ndarray of shape (n_samples,), default=None

    Returns
    -------
    LogisticRegression
        A fitted clone, with ``coef_``, ``intercept_``, ``classes_``, ``n_iter_``.
    """
    fitted = clone(estimator)
    X = validate_data(fitted, X, dtype=np.float64)  # sets n_features_in_ (and feature_names_in_)
    weight = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    total_weight = weight.sum()
    Q = soft_labels * soft_class_weights(estimator.class_weight, soft_labels, classes, sample_weight)
    # scikit-learn's scaling: data term (1/S) sum_i w_i loss_i, penalty ||coef||^2 / (2 C S).
    l2_strength = 0.0 if logistic_penalty(estimator) is None else 1.0 / (estimator.C * total_weight)
    weight = weight / total_weight
    n_coef_rows = 1 if len(classes) == 2 else len(classes)
    n_params = n_coef_rows * X.shape[1] + (n_coef_rows if estimator.fit_intercept else 0)
    # One BLAS thread up to 5M entries of X: the objective's products are small, and OpenBLAS threads
    # competing with torch's made the fit 2x (100,000 x 50) to 12x (digits) slower on a 2-core
    # machine; one thread was faster at every size measured there (898 x 64, 20,000 x 20, 100,000 x 50).
    blas_threads = threadpool_limits(1, user_api="blas") if X.size <= _ONE_THREAD_UP_TO else contextlib.nullcontext()
    with blas_threads:
        result = _minimize(X, Q, weight, l2_strength, n_coef_rows, estimator, n_params)
    if result.nit >= estimator.max_iter:
        warnings.warn(
            f"lbfgs failed to converge after {result.nit} iterations on the soft labels; increase max_iter.",
            ConvergenceWarning,
        )
    n_coef = n_coef_rows * X.shape[1]
    fitted.coef_ = result.x[:n_coef].reshape(n_coef_rows, X.shape[1])
    fitted.intercept_ = result.x[n_coef:] if estimator.fit_intercept else np.zeros(n_coef_rows)
    fitted.classes_ = np.asarray(classes)
    fitted.n_iter_ = np.array([result.nit], dtype=np.int32)
    return fitted
