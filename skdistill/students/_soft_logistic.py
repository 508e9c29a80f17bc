"""Logistic regression on soft labels: scikit-learn's objective with soft targets, solved exactly.

scikit-learn's ``LogisticRegression`` minimises, for weights ``w`` (``class_weight`` included) summing to ``S``,
``(1/S) * sum_i w_i * CE(y_i, softmax(z_i)) + ||coef||^2 / (2 * C * S)`` (intercept unpenalised).
Here ``CE(y_i, .)`` becomes the cross-entropy to a soft target row ``q_i``; the same L-BFGS-B solver
and stopping rule are used, and the result is installed in a clone of the user's own estimator, so
``student_`` is a plain, fully working ``LogisticRegression``.

Memory: float32 ``X`` is used as it is, and the objective runs over chunks of rows, so the fit needs
a few MB beyond ``X`` and the soft labels (1M x 50 float32 rows, 10 classes: 0.77 x ``X`` for the whole
distilled fit, teacher pass included, where a float64 copy of ``X`` and n x n_classes temporaries took
5.77 x; ``benchmarks/bench_memory.py``). A sparse ``X`` (TF-IDF, one-hot) is used as it is too: the
objective's products are sparse @ dense, and it needs one n_samples x n_classes array besides.
"""

import contextlib
import warnings

import numpy as np
from scipy import optimize
from scipy.sparse import issparse
from scipy.special import expit, log_expit
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import validate_data
from threadpoolctl import threadpool_limits

from ._soft_class_weight import student_class_weights


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


# Entries (rows x classes) of the objective's temporaries per chunk of rows: 2**18 is 1 MB in float32, so
# the objective's extra memory is a few MB whatever the number of rows, and the chunks are still large
# enough that the Python loop costs little next to the products.
_CHUNK_ENTRIES = 2**18


class _SoftCrossEntropy:
    """The weighted soft cross-entropy of a linear model and its gradient, a chunk of rows at a time.

    ``value(coef, intercept) = scale * sum_i r_i sum_k c_k q_ik * (-log softmax(z_i)_k)`` plus the L2 term
    ``0.5 * l2_strength * ||coef||^2``, with ``z_i = coef @ x_i + intercept``, row weights ``r`` (1 when
    None), class multipliers ``c`` (1 when None) and ``scale = 1 / sum_i r_i``.

    The products with ``X`` run in ``X``'s dtype (float32 input is not copied to float64); the value and
    the gradient are summed in float64 across chunks, and each row's cross-entropy is summed over its
    classes before the rows are summed in float64, so float32 rounding does not accumulate over rows.
    The solver's parameters are float64. Temporaries are a few chunk x n_classes arrays: a chunk of
    :data:`_CHUNK_ENTRIES` entries. When all rows fit in one chunk, the weighted targets are prepared
    once per fit rather than once per call (on small data the per-call temporaries were most of the time).

    A sparse ``X`` (CSR or CSC, matrix or array) is never densified: its products with the coefficients
    run over all rows at once (a slice of its rows would be a copy), into one n_samples x n_coef_rows
    array in ``X``'s dtype, which the chunks turn into the gradient in the scores.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features), float32 or float64
    soft_labels : ndarray of shape (n_samples, n_classes)
    row_weight : ndarray of shape (n_samples,) or None
    class_multipliers : ndarray of shape (n_classes,) or None
    l2_strength : float
    n_coef_rows : int
        1 (binary: one score, ``p(class 1) = sigmoid(z)``) or ``n_classes``.
    fit_intercept : bool
    """

    def __init__(self, X, soft_labels, row_weight, class_multipliers, l2_strength, n_coef_rows, fit_intercept):
        self.X = X
        self.soft_labels = soft_labels
        self.row_weight = row_weight
        self.class_multipliers = class_multipliers
        self.l2_strength = l2_strength
        self.n_coef_rows = n_coef_rows
        self.fit_intercept = fit_intercept
        self.scale = 1.0 / weighted_total(X.shape[0], soft_labels, row_weight, class_multipliers)
        # Each row's weighted target mass sum_k r_i c_k q_ik, in float64: one value per row.
        mass = soft_labels.sum(axis=1) if class_multipliers is None else soft_labels @ class_multipliers
        self.mass = mass if row_weight is None else mass * row_weight
        n_rows, n_classes = soft_labels.shape
        chunk_rows = max(1, _CHUNK_ENTRIES // n_classes)
        self.chunks = [slice(start, min(start + chunk_rows, n_rows)) for start in range(0, n_rows, chunk_rows)]
        self._prepared = [self._weighted_targets(self.chunks[0])] if len(self.chunks) == 1 else None

    def _weighted_targets(self, rows):
        """``r_i c_k q_ik`` on ``rows``: float64 for the binary score, else in ``X``'s dtype."""
        dtype = np.float64 if self.n_coef_rows == 1 else self.X.dtype
        weighted = np.array(self.soft_labels[rows], dtype=dtype)
        if self.class_multipliers is not None:
            weighted *= self.class_multipliers.astype(dtype)
        if self.row_weight is not None:
            weighted *= self.row_weight[rows, None].astype(dtype)
        return weighted

    def __call__(self, packed):
        """The value (float) and gradient (float64, shaped as ``packed``) at the parameters ``packed``."""
        n_features = self.X.shape[1]
        n_coef = self.n_coef_rows * n_features
        coef = packed[:n_coef].reshape(self.n_coef_rows, n_features)
        work_coef = coef.astype(self.X.dtype, copy=False)
        work_intercept = packed[n_coef:].astype(self.X.dtype, copy=False) if self.fit_intercept else None
        value = 0.0
        grad = np.zeros_like(packed)
        grad_coef = grad[:n_coef].reshape(self.n_coef_rows, n_features)
        if issparse(self.X):
            # A slice of a sparse matrix's rows is a copy (scipy), dearer than the product itself: the
            # products run over all rows, into one n x n_coef_rows array the chunks turn into the gradient.
            scores = self.X @ work_coef.T
            for index, rows in enumerate(self.chunks):
                chunk_value, scores[rows] = self._chunk_terms(index, rows, scores[rows], work_intercept, grad[n_coef:])
                value += chunk_value
            grad_coef += (self.X.T @ scores).T
        else:
            for index, rows in enumerate(self.chunks):
                X_rows = self.X[rows]
                chunk_value, grad_Z = self._chunk_terms(index, rows, X_rows @ work_coef.T, work_intercept, grad[n_coef:])
                value += chunk_value
                grad_coef += grad_Z.T @ X_rows
        value *= self.scale
        grad *= self.scale
        value += 0.5 * self.l2_strength * np.vdot(coef, coef)
        grad_coef += self.l2_strength * coef
        return value, grad

    def _chunk_terms(self, index, rows, Z, work_intercept, grad_intercept):
        """The cross-entropy sum of chunk ``index`` (``rows``, scores ``Z`` without the intercept, which
        may be overwritten) and its gradient in the scores, in ``X``'s dtype; adds the intercept's
        gradient to ``grad_intercept``."""
        weighted = self._prepared[index] if self._prepared is not None else self._weighted_targets(rows)
        if self.fit_intercept:
            Z += work_intercept
        if self.n_coef_rows == 1:
            chunk_value, grad_Z = _binary_terms(Z[:, 0], weighted, self.mass[rows])
        else:
            chunk_value, grad_Z = _multiclass_terms(Z, weighted, self.mass[rows])
        grad_Z = grad_Z.astype(self.X.dtype, copy=False)
        if self.fit_intercept:
            grad_intercept += grad_Z.sum(axis=0)
        return chunk_value, grad_Z


def weighted_total(n_rows, soft_labels, row_weight, class_multipliers):
    """scikit-learn's ``S``: the sum of the row weights after ``class_weight`` multiplied them.

    ``sum_i r_i sum_k c_k q_ik``, the soft form of ``sum_i w_i cw_{y_i}``; ``sum_i r_i`` (``n_rows`` when
    ``row_weight`` is None) without class multipliers. The optimum does not depend on it (it scales the
    data term and the penalty alike), but the solver's stopping rule does: with another ``S``, L-BFGS
    stops elsewhere within its tolerance (3.7e-4 apart in probability at ``tol=1e-4``).
    """
    if class_multipliers is None:
        return n_rows if row_weight is None else row_weight.sum()
    mass = soft_labels @ class_multipliers
    return (mass if row_weight is None else mass * row_weight).sum()


def _binary_terms(z, weighted, mass):
    """Cross-entropy sum and gradient in z of one chunk, binary: ``p(class 1) = sigmoid(z)``, in float64."""
    z = z.astype(np.float64, copy=False)  # one value per row: float64 costs little here
    value = -(weighted[:, 1] @ log_expit(z) + weighted[:, 0] @ log_expit(-z))
    return value, (mass * expit(z) - weighted[:, 1])[:, None]


def _multiclass_terms(Z, weighted, mass):
    """Cross-entropy sum and gradient in Z of one chunk; ``Z`` is overwritten with the log-softmax."""
    Z -= Z.max(axis=1, keepdims=True)
    proba = np.exp(Z)  # softmax and its log-normaliser from one exponential
    norm = proba.sum(axis=1)
    Z -= np.log(norm)[:, None]
    # -sum w q log p: each term >= 0, so no cancellation; in float32, rows are summed in float64.
    if Z.dtype == np.float64:
        value = -np.vdot(weighted, Z)
    else:
        value = -np.einsum("ij,ij->i", weighted, Z).sum(dtype=np.float64)
    proba *= (mass / norm).astype(Z.dtype, copy=False)[:, None]
    proba -= weighted
    return value, proba


def _minimize(objective, estimator, n_params):
    """L-BFGS-B on the soft objective, with scikit-learn's stopping rule."""
    return optimize.minimize(
        objective,
        np.zeros(n_params),
        method="L-BFGS-B",
        jac=True,
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
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        float32 and float64 are used as they are (float32 is not copied); other types become float64.
        A CSR or CSC matrix (or array) is used as it is, never densified; another sparse format becomes CSR.
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
    # float32 stays float32 (no float64 copy of X), a CSR or CSC matrix stays one (the products are
    # sparse @ dense); sets n_features_in_ (and feature_names_in_).
    X = validate_data(fitted, X, dtype=(np.float64, np.float32), accept_sparse=["csr", "csc"])
    soft_labels = np.asarray(soft_labels)
    row_weight = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    class_multipliers = student_class_weights(estimator, soft_labels, classes, sample_weight)
    class_multipliers = None if np.all(class_multipliers == 1) else class_multipliers
    total_weight = weighted_total(X.shape[0], soft_labels, row_weight, class_multipliers)
    # scikit-learn's scaling: data term (1/S) sum_i w_i loss_i, penalty ||coef||^2 / (2 C S).
    l2_strength = 0.0 if logistic_penalty(estimator) is None else 1.0 / (estimator.C * total_weight)
    n_coef_rows = 1 if len(classes) == 2 else len(classes)
    n_params = n_coef_rows * X.shape[1] + (n_coef_rows if estimator.fit_intercept else 0)
    objective = _SoftCrossEntropy(
        X,
        soft_labels,
        row_weight,
        class_multipliers,
        l2_strength,
        n_coef_rows,
        estimator.fit_intercept,
    )
    # One BLAS thread up to 5M entries of X: the objective's products are small, and OpenBLAS threads
    # competing with torch's made the fit 2x (100,000 x 50) to 12x (digits) slower on a 2-core
    # machine; one thread was faster at every size measured there (898 x 64, 20,000 x 20, 100,000 x 50).
    blas_threads = threadpool_limits(1, user_api="blas") if X.size <= _ONE_THREAD_UP_TO else contextlib.nullcontext()
    with blas_threads:
        result = _minimize(objective, estimator, n_params)
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
