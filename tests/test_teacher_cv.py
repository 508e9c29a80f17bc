"""Out-of-fold teacher labels: ``teacher_cv`` (issue 10, item 5).

A fully grown regression tree student with ``alpha=0, T=1`` learns the teacher's probabilities of
its (distinct) training rows exactly, so ``student_.estimator_.predict`` shows what the student
received.
"""

import types

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, ShuffleSplit, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

from skdistill import DistilledClassifier, MLPStudent, SklearnTeacher

from conftest import make_teacher_module


@pytest.fixture
def data():
    """(X, y): 90 distinct rows, 4 features, 3 classes, labels as strings."""
    X, y = make_classification(n_samples=90, n_features=4, n_informative=3, n_redundant=0, n_classes=3, random_state=0)
    return X, np.array(["ant", "bee", "cat"])[y]


def forest():
    return RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0)


def received(teacher, X, y, *, teacher_cv, sample_weight=None, X_unlabeled=None):
    """The fitted distiller whose student holds the probabilities it was given for each of its rows."""
    clf = DistilledClassifier(teacher, DecisionTreeRegressor(random_state=0), T=1.0, alpha=0.0, teacher_cv=teacher_cv)
    return clf.fit(X, y, sample_weight=sample_weight, X_unlabeled=X_unlabeled)


def student_targets(clf, X):
    return clf.student_.estimator_.predict(X)


@pytest.mark.parametrize(
    "teacher_cv",
    [3, StratifiedKFold(4, shuffle=True, random_state=1), KFold(3, shuffle=True, random_state=0)],
    ids=["int", "stratified", "kfold"],
)
def test_the_student_learns_the_teachers_out_of_fold_probabilities(data, teacher_cv):
    X, y = data
    clf = received(forest(), X, y, teacher_cv=teacher_cv)
    expected = cross_val_predict(forest(), X, y, cv=teacher_cv, method="predict_proba")
    np.testing.assert_allclose(student_targets(clf, X), expected, atol=1e-12)
    # ... not the in-sample probabilities the teacher gives its own training rows.
    in_sample = clone(forest()).fit(X, y).predict_proba(X)
    assert np.abs(student_targets(clf, X) - in_sample).max() > 0.3


def test_sample_weight_reaches_each_folds_fit_and_rows_of_weight_0_are_left_out(data):
    X, y = data
    weights = np.random.RandomState(0).uniform(0.5, 2.0, len(X))
    weights[::10] = 0.0
    clf = received(forest(), X, y, teacher_cv=3, sample_weight=weights)
    expected = cross_val_predict(forest(), X, y, cv=3, method="predict_proba", params={"sample_weight": weights})
    kept = weights > 0
    assert clf.student_.estimator_.tree_.n_node_samples[0] == kept.sum()
    np.testing.assert_allclose(student_targets(clf, X[kept]), expected[kept], atol=1e-12)


def test_the_teacher_used_afterwards_is_fitted_on_all_rows(data):
    X, y = data
    X_unlabeled = np.random.RandomState(1).normal(size=(20, X.shape[1]))
    clf = received(forest(), X, y, teacher_cv=3, X_unlabeled=X_unlabeled)
    full = clone(forest()).fit(X, y)
    assert clf.teacher_.estimator_.get_params() == full.get_params()
    np.testing.assert_allclose(clf.teacher_.predict_proba(X), full.predict_proba(X), atol=1e-12)
    np.testing.assert_allclose(clf.teacher_proba(X_unlabeled), full.predict_proba(X_unlabeled), atol=1e-12)
    # Transfer-set rows are labelled by the full teacher, training rows by the fold teachers.
    np.testing.assert_allclose(student_targets(clf, X_unlabeled), full.predict_proba(X_unlabeled), atol=1e-12)
    plain = received(forest(), X, y, teacher_cv=None, X_unlabeled=X_unlabeled)
    assert clf.fidelity(X_unlabeled) == plain.fidelity(X_unlabeled) == 1.0


def test_the_users_teacher_is_not_fitted_or_changed(data):
    X, y = data
    teacher = forest()
    params = teacher.get_params()
    received(teacher, X, y, teacher_cv=3)
    with pytest.raises(NotFittedError):
        check_is_fitted(teacher)
    assert teacher.get_params() == params


# An object: its attributes are not part of the cache key (a counter the code reads would be).
FITS = types.SimpleNamespace(count=0)


class CountingForest(RandomForestClassifier):
    """Counts its fits in an object's attribute, which the cache key does not read."""

    def fit(self, X, y, sample_weight=None):
        FITS.count += 1
        return super().fit(X, y, sample_weight=sample_weight)


def counting_forest():
    return CountingForest(n_estimators=5, max_depth=4, random_state=0)


def test_fold_fits_are_cached(data):
    X, y = data
    FITS.count = 0
    first = received(counting_forest(), X, y, teacher_cv=3)
    assert FITS.count == 3 + 1  # the folds, then all rows
    second = received(counting_forest(), X, y, teacher_cv=3)
    assert FITS.count == 4
    np.testing.assert_array_equal(student_targets(first, X), student_targets(second, X))
    # The teacher fitted on all rows is the one teacher_cv=None fits: shared.
    received(counting_forest(), X, y, teacher_cv=None)
    assert FITS.count == 4
    # Other folds are other fold fits; the full fit is still shared.
    received(counting_forest(), X, y, teacher_cv=StratifiedKFold(3, shuffle=True, random_state=0))
    assert FITS.count == 7


def test_fold_fits_are_not_cached_across_folds_a_splitter_draws_anew(data):
    X, y = data
    FITS.count = 0
    splitter = KFold(3, shuffle=True)  # no random_state: new folds at every split
    first = received(counting_forest(), X, y, teacher_cv=splitter)
    second = received(counting_forest(), X, y, teacher_cv=splitter)
    assert FITS.count == 3 + 1 + 3
    assert not np.array_equal(student_targets(first, X), student_targets(second, X))


def test_memory_false_fits_every_time(data):
    X, y = data
    FITS.count = 0
    for _ in range(2):
        DistilledClassifier(counting_forest(), LogisticRegression(), teacher_cv=3, memory=False).fit(X, y)
    assert FITS.count == 8


def test_a_grid_search_over_teacher_cv(data):
    X, y = data
    FITS.count = 0
    search = GridSearchCV(
        DistilledClassifier(counting_forest(), LogisticRegression(), alpha=0.1),
        {"teacher_cv": [None, 3, KFold(2)], "student__C": [0.1, 1.0]},
        cv=3,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 6
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # Per outer fold: one full fit shared by every candidate, 3 + 2 fold fits shared by both C; then
    # the refit (at most 1 + 3 fits).
    assert FITS.count <= 3 * (1 + 3 + 2) + 1 + 3


def test_works_with_an_adapter_a_pipeline_and_a_dataframe(data):
    pd = pytest.importorskip("pandas")
    X, y = data
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    teacher = make_pipeline(StandardScaler(), LogisticRegression(C=0.5))
    expected = cross_val_predict(teacher, frame, y, cv=3, method="predict_proba")
    clf = received(SklearnTeacher(teacher), frame, y, teacher_cv=3)
    np.testing.assert_allclose(student_targets(clf, frame), expected, atol=1e-12)
    assert list(clf.teacher_.estimator_.feature_names_in_) == ["a", "b", "c", "d"]


def test_works_with_a_lightgbm_teacher_fitted_on_label_positions(data):
    lightgbm = pytest.importorskip("lightgbm")
    X, y = data
    teacher = lightgbm.LGBMClassifier(n_estimators=5, num_leaves=4, min_child_samples=5, verbose=-1)
    expected = cross_val_predict(teacher, X, y, cv=3, method="predict_proba")
    clf = received(teacher, X, y, teacher_cv=3)
    np.testing.assert_allclose(student_targets(clf, X), expected, atol=1e-12)
    assert clf.teacher_.classes_.tolist() == ["ant", "bee", "cat"]


# --- Errors, raised before any work -------------------------------------------------------------------


def test_a_trained_teacher_is_refused(data):
    X, y = data
    FITS.count = 0
    fitted = counting_forest().fit(X, y)
    for teacher in (fitted, SklearnTeacher(fitted), make_teacher_module(n_features=4)):
        with pytest.raises(ValueError, match="teacher_cv=3 fits the teacher .* already trained"):
            DistilledClassifier(teacher, LogisticRegression(), teacher_cv=3).fit(X, y)
    assert FITS.count == 1


def test_y_none_is_refused(data):
    X, _ = data
    FITS.count = 0
    with pytest.raises(ValueError, match="teacher_cv=3 .* needs their labels, but the target y is None"):
        DistilledClassifier(counting_forest(), LogisticRegression(), alpha=0.0, teacher_cv=3).fit(X)
    assert FITS.count == 0


def test_a_fold_whose_other_rows_miss_a_class_is_refused(data):
    X, y = data
    order = np.argsort(y, kind="stable")
    X, y = X[order], y[order]  # unshuffled KFold(3): fold 1 holds out every "ant"
    FITS.count = 0
    with pytest.raises(ValueError, match="teacher_cv, fold 1 of 3: .* no row of class 'ant' \\(29 rows in y"):
        DistilledClassifier(counting_forest(), LogisticRegression(), teacher_cv=KFold(3)).fit(X, y)
    # A class of one row is held out by the one fold that holds it, even when stratified.
    y = y.copy()
    y[-1] = "dog"
    with (
        pytest.warns(UserWarning, match="least populated class"),
        pytest.raises(ValueError, match="fold 3 of 3: .* class 'dog' \\(1 rows in y"),
    ):
        DistilledClassifier(counting_forest(), LogisticRegression(), teacher_cv=3).fit(X, y)
    assert FITS.count == 0


def test_folds_that_do_not_hold_out_every_row_once_are_refused(data):
    X, y = data
    with pytest.raises(ValueError, match="hold out every row exactly once.* rows never"):
        DistilledClassifier(forest(), LogisticRegression(), teacher_cv=ShuffleSplit(3, random_state=0)).fit(X, y)


@pytest.mark.parametrize("teacher_cv", [1, "five", 2.5])
def test_an_invalid_teacher_cv_is_refused(data, teacher_cv):
    X, y = data
    with pytest.raises(InvalidParameterError, match="teacher_cv"):
        DistilledClassifier(forest(), LogisticRegression(), teacher_cv=teacher_cv).fit(X, y)


def test_partial_fit_refuses_teacher_cv(data):
    X, y = data
    fitted = LogisticRegression().fit(X, y)
    clf = DistilledClassifier(fitted, MLPStudent(max_iter=1), teacher_cv=3)
    with pytest.raises(ValueError, match="partial_fit uses a trained teacher as it is"):
        clf.partial_fit(X, y)
    assert not hasattr(clf, "student_")
