"""Property-based tests: any data, labels, weights, T and alpha give valid probabilities or a clear error.

Each case draws a small data set (1 to a few dozen rows, 1 to 8 features, float32, float64 or int,
magnitudes up to 1e6, constant columns, duplicated rows), labels of one kind (ints, negative or
non-contiguous ints, strings, bools, floats; 1 to 5 classes, some with a single row), sample weights
(none, positive, some zero, all but one zero), ``T`` log-uniform in [1e-3, 1e3] and ``alpha`` in
{0, 1} or between, a teacher (fitted or unfitted scikit-learn classifier, torch module) and one of the
student kinds. Then ``fit`` and ``predict_proba`` either

* succeed: probabilities finite, in [0, 1], rows summing to 1, one column per entry of ``classes_``
  (the sorted labels the teacher scores), predictions that do not depend on the rows' order; or
* raise a ``ValueError`` or ``TypeError`` that skdistill or scikit-learn raised on purpose, with a
  message naming the problem: never an error from inside torch, numpy or scipy.

A case with at least two labels among the rows of positive weight is valid and must succeed.
"""

import traceback
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier

from skdistill import DistilledClassifier, MLPStudent, TorchTeacher

from conftest import make_teacher_module

# Modest counts: the whole file runs in well under a minute on two busy cores. derandomize makes the
# examples the same on every run (and in CI); database=None keeps no state between runs.
PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

LABEL_KINDS = {
    "int": [0, 1, 2, 3, 4],
    "negative": [-7, -1, 0, 2, 5],
    "non_contiguous": [3, 7, 9, 12, 20],
    "str": ["a", "b", "c", "d", "e"],
    "bool": [False, True],
    "float": [-1.0, 0.0, 2.0, 3.0, 7.0],
    # Not class labels for scikit-learn ("continuous"): always refused.
    "fractional": [-0.5, 0.25, 1.5, 2.0, 3.75],
}

STUDENTS = {
    "mlp": lambda: MLPStudent(hidden_layer_sizes=(4,), max_iter=3, random_state=0),
    "logistic": lambda: LogisticRegression(max_iter=50),
    "tree": lambda: DecisionTreeClassifier(max_depth=3, random_state=0),
    "gaussian_nb": lambda: GaussianNB(),
    "sgd": lambda: SGDClassifier(loss="log_loss", max_iter=5, tol=None, random_state=0),
    "hist_gradient_boosting": lambda: HistGradientBoostingClassifier(max_iter=3, max_depth=2, random_state=0),
}

# Students on the sample-weight route that broke when the soft labels kept one class (fixed).
ONE_SOFT_CLASS_STUDENTS = ["hist_gradient_boosting", "sgd"]

TEACHERS = (
    "fitted_nb",
    "fitted_logistic",
    "fitted_tree",  # probabilities of exactly 0
    "unfitted_nb",
    "unfitted_logistic",
    "unfitted_tree",
    "torch_classes",
    "torch_bare",
)
TEACHER_MODELS = {
    "nb": GaussianNB,
    "logistic": lambda: LogisticRegression(max_iter=50),
    "tree": lambda: DecisionTreeClassifier(max_depth=2, random_state=0),
}

# Where a deliberate, explanatory error may come from.
OUR_CODE = ("skdistill", "sklearn")
# Where a raw error ("mat1 and mat2 shapes cannot be multiplied", "index out of range") comes from.
RAW_CODE = ("torch", "numpy", "scipy")
# Raw messages that numpy or torch raise from inside skdistill's own frames (indexing, broadcasting).
RAW_MESSAGES = (
    "could not be broadcast",
    "shape mismatch",
    "out of bounds",
    "index out of range",
    "mat1 and mat2",
    "must match the size of tensor",
    "setting an array element",
    "zero-size array",
)


@st.composite
def cases(draw):
    n_rows = draw(st.integers(4, 36) | st.sampled_from([1, 2, 3]))
    n_features = draw(st.integers(1, 8))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)

    scale = draw(st.sampled_from([1.0, 1e-3, 1e6]))
    X = rng.normal(size=(n_rows, n_features)) * scale
    if draw(st.booleans()):
        X[:, draw(st.integers(0, n_features - 1))] = draw(st.sampled_from([0.0, 1.0, 1e6]))
    duplicated = draw(st.booleans())
    if duplicated and n_rows > 1:
        X[n_rows // 2 :] = X[: n_rows - n_rows // 2]
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int64]))
    X = np.round(X).astype(dtype) if dtype is np.int64 else X.astype(dtype)

    label_kind = draw(st.sampled_from(sorted(LABEL_KINDS)))
    labels = LABEL_KINDS[label_kind]
    # Two classes or more; single-class cases still come from tiny data and weights of 0.
    n_classes = draw(st.integers(2, len(labels)))
    # Every class once (as far as there are rows), so some classes have a single row; the rest at random.
    codes = np.concatenate([np.arange(min(n_classes, n_rows)), rng.randint(n_classes, size=max(n_rows - n_classes, 0))])
    codes = rng.permutation(codes)
    if duplicated and n_rows > 1 and draw(st.booleans()):
        codes[n_rows // 2 :] = codes[: n_rows - n_rows // 2]  # duplicated rows with the same labels
    y = np.array(labels)[codes]

    weight_kind = draw(st.sampled_from(["none", "positive", "some_zero", "all_but_one_zero"]))
    if weight_kind == "none":
        sample_weight = None
    elif weight_kind == "positive":
        sample_weight = rng.uniform(0.1, 3.0, n_rows)
    elif weight_kind == "some_zero":
        sample_weight = rng.uniform(0.1, 3.0, n_rows) * (rng.uniform(size=n_rows) < 0.7)
    else:
        sample_weight = np.zeros(n_rows)
        sample_weight[rng.randint(n_rows)] = 1.0

    T = 10.0 ** draw(st.floats(-3, 3))
    alpha = draw(st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0, 1)))
    teacher_kind = draw(st.sampled_from(TEACHERS))
    if label_kind == "fractional" and teacher_kind.startswith("fitted"):
        teacher_kind = "un" + teacher_kind  # a teacher cannot be fitted on such labels
    return {
        "X": X,
        "y": y,
        "labels": np.array(labels[:n_classes]),
        "sample_weight": sample_weight,
        "T": T,
        "alpha": alpha,
        "teacher_kind": teacher_kind,
        "seed": seed,
    }


def make_teacher(kind, X, y, labels, seed):
    """The teacher and the labels it scores (None: those of y)."""
    n_features = X.shape[1]
    if kind.startswith("fitted"):
        # Trained on its own rows, one or more per label: it scores every label, also those y lacks.
        rng = np.random.RandomState(seed + 1)
        n_rows = 3 * len(labels) if len(labels) > 1 else 3
        X_teacher = rng.normal(size=(n_rows, n_features))
        y_teacher = np.resize(labels, n_rows)
        if len(labels) == 1:  # scikit-learn classifiers need two classes: add one the data does not have
            return make_teacher(kind, X, y, np.array([labels[0], _other_label(labels[0])]), seed)
        model = TEACHER_MODELS[kind.removeprefix("fitted_")]()
        return model.fit(X_teacher, y_teacher), np.sort(labels)
    if kind.startswith("unfitted"):
        return TEACHER_MODELS[kind.removeprefix("unfitted_")](), None
    present = np.unique(y)
    module = make_teacher_module(n_features=n_features, n_classes=max(len(present), 1), seed=seed % 1000)
    if kind == "torch_classes":
        return TorchTeacher(module, classes=present), present
    return module, None  # a bare module: its columns score the sorted labels of y


def is_fractional(y):
    return y.dtype.kind == "f" and (y != np.round(y)).any()


def _other_label(label):
    if isinstance(label, (bool, np.bool_)):
        return not label
    if isinstance(label, str):
        return label + "z"
    return label + 100


def check_error(error):
    """An error must be a ValueError or TypeError raised on purpose, by skdistill or scikit-learn."""
    frames = traceback.extract_tb(error.__traceback__)
    innermost = frames[-1].filename if frames else ""
    assert isinstance(error, (ValueError, TypeError)), f"{type(error).__name__}: {error}"
    assert not any(f"/{package}/" in innermost for package in RAW_CODE), (
        f"raw error from {innermost}: {type(error).__name__}: {error}"
    )
    assert any(f"/{package}/" in innermost for package in OUR_CODE), f"error from {innermost}: {error}"
    assert not any(raw in str(error) for raw in RAW_MESSAGES), f"raw error: {type(error).__name__}: {error}"
    assert len(str(error)) > 20, f"uninformative message: {error!r}"


def fit_and_predict(clf, X, y, sample_weight):
    """``clf.fit(X, y).predict_proba(X)``, or the ValueError or TypeError raised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)  # e.g. overflow in a student's own fit
            clf.fit(X, y, sample_weight=sample_weight)
            return clf.predict_proba(X), None
    except (ValueError, TypeError) as error:
        return None, error


def student_failed(student_name, X, sample_weight, error):
    """A GaussianNB student whose rows of positive weight are all one row predicts NaN (variances of 0):
    refused, rightly, at predict time with a message naming it."""
    kept = X if sample_weight is None else X[sample_weight > 0]
    return (
        student_name == "gaussian_nb"
        and error is not None
        and "GaussianNB" in str(error)
        and "NaN" in str(error)
        and len(kept) > 0
        and bool((kept == kept[0]).all())
    )


def one_soft_class(error):
    """Soft targets with all their weight on one class (a certain teacher, alpha=0 or T tiny) cannot
    train a classifier on the sample-weight route: refused, rightly, before the student is fitted."""
    return error is not None and "all their weight on one class" in str(error)


def teacher_failed(error):
    """A teacher that gives NaN on the data (GaussianNB fitted on a constant column) is refused, rightly."""
    return error is not None and "non-finite values" in str(error) and "teacher" in str(error)


def check_probabilities(clf, X, proba, seed):
    """Valid probabilities, and predictions that do not depend on the order of the rows around them."""
    assert proba.shape == (len(X), len(clf.classes_))
    assert np.isfinite(proba).all(), proba
    assert (proba >= 0).all() and (proba <= 1).all(), proba
    # A classical student may compute in float32 on float32 rows: scikit-learn's GaussianNB then gives
    # rows summing to 1 within 3.4e-6 (its own rounding), also when skdistill widens them to float64.
    float32_derived = proba.dtype == np.float32 or X.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5 if float32_derived else 1e-6)
    predictions = clf.predict(X)
    assert set(predictions.tolist()) <= set(clf.classes_.tolist())

    permutation = np.random.RandomState(seed).permutation(len(X))
    np.testing.assert_allclose(clf.predict_proba(X[permutation]), proba[permutation], rtol=1e-6, atol=1e-9)
    top_two = np.sort(proba, axis=1)[:, -2:]
    clear = (top_two[:, 1] - top_two[:, 0] > 1e-6)[permutation]  # the top two classes are not (nearly) tied
    np.testing.assert_array_equal(clf.predict(X[permutation])[clear], predictions[permutation][clear])


@pytest.mark.parametrize("student_name", sorted(STUDENTS))
@PROPERTY_SETTINGS
@given(case=cases())
def test_fit_gives_valid_probabilities_or_a_clear_error(student_name, case):
    X, y, sample_weight = case["X"], case["y"], case["sample_weight"]
    teacher, teacher_labels = make_teacher(case["teacher_kind"], X, y, case["labels"], case["seed"])
    clf = DistilledClassifier(teacher, STUDENTS[student_name](), T=case["T"], alpha=case["alpha"], memory=False)
    kept = np.ones(len(y), dtype=bool) if sample_weight is None else sample_weight > 0
    valid = len(np.unique(y[kept])) >= 2 and not is_fractional(y)

    proba, error = fit_and_predict(clf, X, y, sample_weight)
    event(f"refused: {str(error)[:50]}" if error is not None else "fitted")
    if error is not None:
        check_error(error)
        assert not valid or teacher_failed(error) or one_soft_class(error) or student_failed(student_name, X, sample_weight, error), (
            f"a valid case was refused: {type(error).__name__}: {error}"
        )
        return
    assert valid, "fit accepted fewer than two labels among the rows of positive weight"
    # The sorted labels the teacher scores: those of y, or those of a teacher that knows its own.
    np.testing.assert_array_equal(clf.classes_, np.unique(y) if teacher_labels is None else teacher_labels)
    check_probabilities(clf, X, proba, case["seed"])


@pytest.mark.parametrize("student_name", sorted(STUDENTS))
@PROPERTY_SETTINGS
@given(case=cases())
def test_pure_distillation_without_labels(student_name, case):
    # alpha=0 with a trained teacher: y may be None, the labels then come from the teacher alone.
    X, sample_weight = case["X"], case["sample_weight"]
    labels = case["labels"] if not is_fractional(case["labels"]) else np.arange(len(case["labels"]))
    teacher_kind = "torch_classes" if case["seed"] % 2 else "fitted_logistic"
    teacher, teacher_labels = make_teacher(
        teacher_kind, X, labels[np.arange(len(X)) % len(labels)], labels, case["seed"]
    )
    clf = DistilledClassifier(teacher, STUDENTS[student_name](), T=case["T"], alpha=0.0, memory=False)
    # A one-label torch teacher returns one column, which stands for two classes: refused.
    valid = len(teacher_labels) >= 2 and (sample_weight is None or (sample_weight > 0).any())

    proba, error = fit_and_predict(clf, X, None, sample_weight)
    event(f"refused: {str(error)[:50]}" if error is not None else "fitted")
    if error is not None:
        check_error(error)
        assert not valid or one_soft_class(error) or student_failed(student_name, X, sample_weight, error), (
            f"a valid case was refused: {type(error).__name__}: {error}"
        )
        return
    assert valid, "fit accepted a case it should have refused"
    np.testing.assert_array_equal(clf.classes_, teacher_labels)
    check_probabilities(clf, X, proba, case["seed"])


# ---- the minimal examples of the bugs found here, fixed since ----


def confident_teacher():
    """Puts about 0.999 on class 1 for rows near 10: tempered at T=0.1, class 0 gets about 1e-30."""
    return LogisticRegression().fit([[-1.0], [1.0]], [0, 1])


def test_gaussian_nb_student_on_one_row_gives_no_nan():
    X = np.array([[0.5]])
    clf = DistilledClassifier(confident_teacher(), GaussianNB(), alpha=0.0, memory=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            proba = clf.fit(X).predict_proba(X)
        except ValueError as error:  # refusing, and saying why, would do too
            assert "GaussianNB" in str(error)
            return
    assert np.isfinite(proba).all(), proba
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_gaussian_nb_student_on_one_row_of_positive_weight_gives_probabilities():
    X = np.array([[0.00162435, -0.00061176], [-0.00052817, -0.00107297], [0.00086541, -0.00230154]], np.float32)
    teacher = GaussianNB().fit(np.random.RandomState(0).normal(size=(6, 2)), [0, 1, 2] * 2)
    clf = DistilledClassifier(teacher, GaussianNB(), alpha=0.0, T=1.0, memory=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            proba = clf.fit(X, sample_weight=[0.0, 1.0, 0.0]).predict_proba(X)
        except ValueError as error:  # refusing, and saying why, would do too
            assert "GaussianNB" in str(error)
            return
    assert np.isfinite(proba).all(), proba
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("student_name", ONE_SOFT_CLASS_STUDENTS)
def test_sample_weight_route_with_one_dominant_soft_class(student_name):
    X = np.array([[10.0], [11.0]])
    clf = DistilledClassifier(confident_teacher(), STUDENTS[student_name](), T=0.1, alpha=0.0, memory=False)
    proba = clf.fit(X).predict_proba(X)
    assert proba.shape == (2, 2) and np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_int_rows_are_learnt_as_float64():
    X = 2**24 + np.arange(4)[:, None]  # distinct int64 rows; 2**24 and 2**24 + 1 are one float32
    y = np.array([0, 0, 1, 1])
    from_int = DistilledClassifier(GaussianNB(), GaussianNB(), alpha=0.5, memory=False).fit(X, y)
    from_float = DistilledClassifier(GaussianNB(), GaussianNB(), alpha=0.5, memory=False).fit(X.astype(float), y)
    np.testing.assert_allclose(from_int.predict_proba(X), from_float.predict_proba(X.astype(float)), rtol=1e-9)


@pytest.mark.parametrize("student_name", ONE_SOFT_CLASS_STUDENTS)
def test_sample_weight_route_refuses_soft_targets_of_one_class(student_name):
    # At T=1e-3 the other class's tempered probability is exactly 0 in float64: one class is left.
    X = np.array([[10.0], [11.0]])
    student = STUDENTS[student_name]()
    clf = DistilledClassifier(confident_teacher(), student, T=1e-3, alpha=0.0, memory=False, route="sample_weight")
    with pytest.raises(ValueError, match="all their weight on one class .* Raise T"):
        clf.fit(X)
    assert not hasattr(clf, "student_")
