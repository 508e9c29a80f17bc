"""The soft logistic route on sparse rows (TF-IDF, one-hot): the same model as on the dense rows, X untouched.

A LogisticRegression student takes a CSR or CSC matrix (or array) as LogisticRegression itself does;
the objective's products are sparse @ dense, and X is never densified. Neural students do not train
on sparse rows: they refuse them, with the fix, before the teacher runs.
"""

import tracemalloc

import numpy as np
import pytest
import torch
from scipy import sparse
from scipy.special import softmax
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skdistill import DistilledClassifier, DistilledRegressor, MLPStudent, TorchStudent
from skdistill.students import _soft_logistic
from skdistill.students._soft_logistic import _SoftCrossEntropy, fit_soft_logistic

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SPARSE_FORMATS = [sparse.csr_matrix, sparse.csc_matrix, sparse.csr_array, sparse.csc_array]


def sparse_problem(n_classes, n_samples=400, n_features=60, seed=0):
    """Rows with about 90% zeros (non-negative, as TF-IDF), labels from a linear score, soft labels, weights."""
    rng = np.random.default_rng(seed)
    X = rng.random((n_samples, n_features)) * (rng.random((n_samples, n_features)) < 0.1)
    y = np.argmax(X @ rng.normal(scale=3.0, size=(n_features, n_classes)) + rng.gumbel(size=(n_samples, n_classes)), axis=1)
    Q = softmax(rng.normal(size=(n_samples, n_classes)) + 2 * np.eye(n_classes)[y], axis=1)
    return X, y, Q, rng.uniform(0.5, 2.0, n_samples)


def tight_logistic(**params):
    return LogisticRegression(tol=1e-10, max_iter=10_000, **params)


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("class_weighted", [False, True])
@pytest.mark.parametrize("chunk_rows", [None, 7])
@pytest.mark.parametrize("to_sparse", SPARSE_FORMATS)
def test_the_objective_on_sparse_rows_is_the_objective_on_dense_rows(monkeypatch, n_classes, class_weighted, chunk_rows, to_sparse):
    # Without row weights, which the fits below have: the data term is then scaled by 1 / n_samples.
    X, _, Q, _ = sparse_problem(n_classes)
    w = None
    class_multipliers = np.linspace(0.5, 2.0, n_classes) if class_weighted else None
    n_coef_rows = 1 if n_classes == 2 else n_classes
    packed = np.random.default_rng(1).normal(size=n_coef_rows * (X.shape[1] + 1))
    dense = _SoftCrossEntropy(X, Q, w, class_multipliers, 0.01, n_coef_rows, fit_intercept=True)
    if chunk_rows is not None:  # chunks of 7 rows, the last shorter
        monkeypatch.setattr(_soft_logistic, "_CHUNK_ENTRIES", chunk_rows * n_classes)
    on_sparse = _SoftCrossEntropy(to_sparse(X), Q, w, class_multipliers, 0.01, n_coef_rows, fit_intercept=True)
    assert len(on_sparse.chunks) == (1 if chunk_rows is None else 58)
    value, grad = dense(packed)
    sparse_value, sparse_grad = on_sparse(packed)
    np.testing.assert_allclose(sparse_value, value, rtol=1e-12)
    np.testing.assert_allclose(sparse_grad, grad, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("class_weight", [None, "balanced"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_soft_labels_on_sparse_rows_give_the_coefficients_of_the_dense_rows(n_classes, class_weight, fit_intercept):
    # Measured: at most 3.8e-10 apart.
    X, _, Q, w = sparse_problem(n_classes)
    estimator = tight_logistic(C=0.5, class_weight=class_weight, fit_intercept=fit_intercept)
    dense = fit_soft_logistic(estimator, X, Q, np.arange(n_classes), w)
    for to_sparse in SPARSE_FORMATS:
        on_sparse = fit_soft_logistic(estimator, to_sparse(X), Q, np.arange(n_classes), w)
        np.testing.assert_allclose(on_sparse.coef_, dense.coef_, atol=1e-8)
        np.testing.assert_allclose(on_sparse.intercept_, dense.intercept_, atol=1e-8)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("class_weight", [None, "balanced"])
@pytest.mark.parametrize("to_sparse", [*SPARSE_FORMATS, sparse.coo_array])
def test_hard_labels_on_sparse_rows_give_plain_logistic_regression(n_classes, class_weight, to_sparse):
    # alpha=1: the soft labels are one-hot, so the distilled student is LogisticRegression's own fit,
    # on the sparse rows as on the same rows densified. Measured: sparse and dense fits 1.7e-10 apart in
    # coefficients, 7.9e-11 in probability; 3.3e-10 and 1.1e-10 from scikit-learn's fit, where the
    # tolerances are those of dense rows (test_classical_students.py, against scikit-learn).
    X, y, _, w = sparse_problem(n_classes)
    X_sparse = to_sparse(X)

    def distilled(rows):
        student = tight_logistic(class_weight=class_weight)
        return DistilledClassifier(LogisticRegression(), student, alpha=1.0).fit(rows, y, sample_weight=w)

    on_sparse, on_dense = distilled(X_sparse), distilled(X)
    plain = tight_logistic(class_weight=class_weight).fit(X_sparse, y, sample_weight=w)
    assert on_sparse.route_ == "logistic"
    np.testing.assert_allclose(on_sparse.student_.coef_, on_dense.student_.coef_, atol=1e-8)
    np.testing.assert_allclose(on_sparse.predict_proba(X_sparse), on_dense.predict_proba(X), atol=1e-9)
    np.testing.assert_allclose(on_sparse.predict_proba(X_sparse), plain.predict_proba(X_sparse), atol=1e-8)
    np.testing.assert_allclose(on_sparse.student_.coef_, plain.coef_, atol=1e-6)


@pytest.mark.parametrize("n_classes", [2, 5])
@pytest.mark.parametrize("seed", range(3))
def test_float32_sparse_rows_give_the_float32_dense_fit_to_float32_precision(n_classes, seed):
    # Both float32 fits compute their products in float32, in another order, and stop within float32
    # precision of the optimum. Measured (3,000 x 200, 10% non-zero, 2 and 5 classes, seeds 0-4): the
    # sparse fit at most 3.8e-4 from the float64 fit in probability, the dense float32 fit 4.7e-4, the
    # two 3.5e-4 apart; scikit-learn's own lbfgs on the float32 rows 1.6e-3 from the float64 fit.
    X, y, _, w = sparse_problem(n_classes, n_samples=3000, n_features=200, seed=seed)
    X32 = X.astype(np.float32)

    def distilled(rows):
        return DistilledClassifier(LogisticRegression(), tight_logistic(), alpha=1.0).fit(rows, y, sample_weight=w)

    on_sparse, on_dense = distilled(sparse.csr_matrix(X32)), distilled(X32)
    exact = distilled(sparse.csr_matrix(X32.astype(np.float64)))
    assert on_sparse.route_ == "logistic"
    proba = on_sparse.predict_proba(sparse.csr_matrix(X32))
    np.testing.assert_allclose(proba, on_dense.predict_proba(X32), atol=1e-3)
    np.testing.assert_allclose(proba, exact.predict_proba(X32), atol=1e-3)


@pytest.mark.parametrize("sparse_format", ["csr", "csc"])
def test_sparse_float32_rows_are_neither_densified_nor_copied(sparse_format):
    # 200,000 x 2,000 float32 rows with 20 non-zeros each: 16 MB of values and 16 MB of indices (X, 33 MB),
    # 1.6 GB densified (49 x X); a float64 copy of the values alone would be 0.97 x X. What the fit
    # allocates is one n x n_classes float32 array (8 MB), the per-row target mass, chunk temporaries
    # and L-BFGS-B's memory of 20,010 parameters. Measured: 0.56 x X, CSR and CSC alike.
    rng = np.random.default_rng(0)
    n_samples, n_features, per_row, n_classes = 200_000, 2_000, 20, 10
    X = sparse.csr_matrix(
        (
            rng.random(n_samples * per_row, dtype=np.float32),
            rng.integers(0, n_features, n_samples * per_row).astype(np.int32),
            np.arange(0, n_samples * per_row + 1, per_row, dtype=np.int32),
        ),
        shape=(n_samples, n_features),
    ).asformat(sparse_format)
    Q = softmax(rng.normal(size=(n_samples, n_classes)), axis=1)
    X_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    tracemalloc.start()
    try:
        fit_soft_logistic(LogisticRegression(max_iter=3), X, Q, np.arange(n_classes))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.75 * X_bytes, f"{peak / X_bytes:.2f} x X"


def test_sparse_rows_are_not_changed():
    X, y, _, w = sparse_problem(3)
    for to_sparse in SPARSE_FORMATS:
        X_sparse = to_sparse(X)
        X_sparse.indices[:2] = X_sparse.indices[:2][::-1].copy()  # unsorted indices: a sort would show
        X_sparse.has_sorted_indices = False
        saved = [X_sparse.data.copy(), X_sparse.indices.copy(), X_sparse.indptr.copy()]
        DistilledClassifier(RandomForestClassifier(10, random_state=0), LogisticRegression(), alpha=0.3).fit(
            X_sparse, y, sample_weight=w
        )
        assert X_sparse.format == to_sparse((1, 1)).format and X_sparse.dtype == np.float64
        for array, before in zip([X_sparse.data, X_sparse.indices, X_sparse.indptr], saved):
            np.testing.assert_array_equal(array, before)


def reviews(n_docs=200, seed=0):
    rng = np.random.RandomState(seed)
    words = ["good", "bad", "great", "awful", "fine", "meh", "love", "hate"]
    docs = [" ".join(rng.choice(words, 6)) for _ in range(n_docs)]
    y = np.array(["pos" if sum(w in d.split() for w in ["good", "great", "love"]) > 2 else "neg" for d in docs])
    return docs, y


def test_a_tfidf_pipeline_distils_a_forest_into_a_logistic_regression():
    docs, y = reviews()

    def pipeline(*densify):
        teacher = RandomForestClassifier(50, random_state=0)
        distiller = DistilledClassifier(teacher, LogisticRegression(), T=2.0, alpha=0.2)
        return make_pipeline(TfidfVectorizer(), *densify, distiller).fit(docs, y)

    on_sparse = pipeline()
    on_dense = pipeline(FunctionTransformer(lambda X: X.toarray(), accept_sparse=True))
    assert on_sparse[-1].route_ == "logistic" and type(on_sparse[-1].student_) is LogisticRegression
    assert on_sparse.predict(docs).shape == (len(docs),) and on_sparse.score(docs, y) > 0.8
    # The forest grows the same trees on the sparse and the dense matrix, so the students agree.
    np.testing.assert_allclose(on_sparse.predict_proba(docs), on_dense.predict_proba(docs), atol=1e-6)


class CountingTeacher:
    """A trained teacher that counts the rows it is asked about."""

    def __init__(self, n_features, classes):
        self.classes_ = np.asarray(classes)
        self.weights = np.random.default_rng(0).normal(size=(n_features, len(classes)))
        self.rows_seen = 0

    def predict_proba(self, X):
        self.rows_seen += X.shape[0]
        return softmax(X @ self.weights, axis=1)

    def predict(self, X):
        self.rows_seen += X.shape[0]
        return X @ self.weights[:, 0]


@pytest.mark.parametrize(
    ("distiller", "student"),
    [
        (DistilledClassifier, MLPStudent(max_iter=2)),
        (DistilledClassifier, None),
        (DistilledClassifier, torch.nn.Linear(60, 3)),
        (DistilledClassifier, TorchStudent(torch.nn.Linear(60, 3), max_iter=2)),
        (DistilledRegressor, MLPStudent(max_iter=2)),
    ],
)
def test_a_neural_student_refuses_sparse_rows_with_the_fix_before_the_teacher_runs(distiller, student):
    X, y, _, _ = sparse_problem(3)
    teacher = CountingTeacher(X.shape[1], [0, 1, 2])
    name = "MLPStudent" if student is None else type(student).__name__
    alternatives = "LogisticRegression" if distiller is DistilledClassifier else "Ridge"
    message = rf"X is a sparse matrix, but the student {name}, .* dense arrays only. Pass X.toarray\(\) .* {alternatives}"
    with pytest.raises(TypeError, match=message):
        distiller(teacher, student).fit(sparse.csr_matrix(X), y)
    if distiller is DistilledClassifier:
        with pytest.raises(TypeError, match=message):
            distiller(teacher, student).partial_fit(sparse.csr_matrix(X), y, classes=[0, 1, 2])
    assert teacher.rows_seen == 0
