"""``class_weight`` means for every student what its own library makes of it for hard labels.

At ``alpha=1`` the soft targets are the labels, so the distilled student must be the plain fit of the
same student on the same labels and sample weights, "balanced" and dict class weights included.
"""

import warnings

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.tree import DecisionTreeClassifier

from skdistill import DistilledClassifier
from skdistill.students._soft_class_weight import student_class_weights


def _lightgbm(**params):
    lightgbm = pytest.importorskip("lightgbm")
    return lightgbm.LGBMClassifier(n_estimators=8, num_leaves=7, verbose=-1, n_jobs=1, random_state=0, **params)


def _xgboost(**params):
    xgboost = pytest.importorskip("xgboost")
    return xgboost.XGBClassifier(n_estimators=8, max_depth=3, n_jobs=1, random_state=0, **params)


# (student factory, route, tolerance on predict_proba): trees and boosters are deterministic (the
# boosters' soft objective rounds differently from the library's own, 1e-8).
STUDENTS = {
    "tree": (lambda **p: DecisionTreeClassifier(max_depth=4, random_state=0, **p), "tree", 1e-12),
    "forest": (lambda **p: RandomForestClassifier(n_estimators=4, max_depth=4, random_state=0, **p), "sample_weight", 1e-12),
    "hist_boosting": (lambda **p: HistGradientBoostingClassifier(max_iter=8, random_state=0, **p), "boosting", 1e-6),
    "logistic": (lambda **p: LogisticRegression(tol=1e-10, max_iter=10_000, **p), "logistic", 1e-6),
    # At its default tol L-BFGS stops where scikit-learn's does only if the objective is scaled alike.
    "logistic_default_tol": (lambda **p: LogisticRegression(**p), "logistic", 1e-10),
    "lightgbm": (_lightgbm, "boosting", 1e-6),
    "sgd": (lambda **p: SGDClassifier(loss="log_loss", random_state=0, **p), "sample_weight", 1e-12),
}

CLASS_WEIGHTS = {"balanced": "balanced", "dict": {0: 1.0, 1: 3.0, 2: 10.0}}


@pytest.fixture(scope="module")
def imbalanced():
    X, y = make_classification(
        n_samples=240, n_features=5, n_informative=4, n_redundant=0, n_classes=3, weights=[0.7, 0.2, 0.1], random_state=0
    )
    sample_weight = np.random.RandomState(1).uniform(0.3, 3.0, len(y))
    return X, y, sample_weight, LogisticRegression(max_iter=500).fit(X, y)


@pytest.mark.parametrize("weighted", [False, True], ids=["no_sample_weight", "sample_weight"])
@pytest.mark.parametrize("class_weight", list(CLASS_WEIGHTS))
@pytest.mark.parametrize("student", list(STUDENTS))
def test_hard_labels_give_the_plain_fit_with_class_weight(imbalanced, student, class_weight, weighted):
    X, y, sample_weight, teacher = imbalanced
    make, route, tolerance = STUDENTS[student]
    estimator = make(class_weight=CLASS_WEIGHTS[class_weight])
    w = sample_weight if weighted else None
    plain = clone(estimator).fit(X, y, sample_weight=w)
    distilled = DistilledClassifier(teacher, clone(estimator), alpha=1.0).fit(X, y, sample_weight=w)
    assert distilled.route_ == route
    np.testing.assert_allclose(distilled.predict_proba(X), plain.predict_proba(X), rtol=0, atol=tolerance)


@pytest.mark.parametrize("weighted", [False, True], ids=["no_sample_weight", "sample_weight"])
def test_xgboost_ignores_a_class_weight_keyword_as_its_own_fit_does(imbalanced, weighted):
    # XGBoost has no class_weight; a keyword argument of that name is not used by its fit (it warns).
    X, y, sample_weight, teacher = imbalanced
    estimator = _xgboost(class_weight="balanced")
    w = sample_weight if weighted else None
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"(?s).*class_weight.*are not used", category=UserWarning)
        plain = clone(estimator).fit(X, y, sample_weight=w)
        distilled = DistilledClassifier(teacher, clone(estimator), alpha=1.0).fit(X, y, sample_weight=w)
    assert distilled.route_ == "boosting"
    np.testing.assert_allclose(distilled.predict_proba(X), plain.predict_proba(X), rtol=0, atol=1e-6)


@pytest.mark.parametrize("weighted", [False, True], ids=["no_sample_weight", "sample_weight"])
@pytest.mark.parametrize("auto_class_weights", ["Balanced", "SqrtBalanced"])
def test_catboost_auto_class_weights_give_the_plain_fit(imbalanced, auto_class_weights, weighted):
    # CatBoost sums each class's sample weights into a whole number and keeps its class weights in float32.
    catboost = pytest.importorskip("catboost")
    X, y, sample_weight, teacher = imbalanced
    estimator = catboost.CatBoostClassifier(
        iterations=8, depth=3, verbose=0, allow_writing_files=False, random_seed=0, thread_count=1,
        auto_class_weights=auto_class_weights,
    )
    w = sample_weight if weighted else None
    plain = clone(estimator).fit(X, y, sample_weight=w)
    distilled = DistilledClassifier(teacher, clone(estimator), alpha=1.0).fit(X, y, sample_weight=w)
    assert distilled.route_ == "sample_weight"
    np.testing.assert_allclose(distilled.predict_proba(X), plain.predict_proba(X), rtol=0, atol=1e-6)


def test_balanced_counts_rows_or_weights_as_the_students_library_does():
    soft_labels = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    w = np.array([1.0, 4.0, 1.0])
    classes = np.arange(2)
    by_rows = 3 / (2 * soft_labels.sum(axis=0))  # compute_sample_weight(class_weight, y): rows
    by_weights = w.sum() / (2 * (w @ soft_labels))  # compute_class_weight(..., sample_weight=w)
    for estimator in (DecisionTreeClassifier(), HistGradientBoostingClassifier(), SGDClassifier()):
        estimator.set_params(class_weight="balanced")
        np.testing.assert_allclose(student_class_weights(estimator, soft_labels, classes, w), by_rows)
    for estimator in (LogisticRegression(), RandomForestClassifier()):
        estimator.set_params(class_weight="balanced")
        np.testing.assert_allclose(student_class_weights(estimator, soft_labels, classes, w), by_weights)


class ClassWeightRecordingSGD(SGDClassifier):
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        self.class_weight_in_fit_ = self.class_weight
        return super().fit(X, y, coef_init=coef_init, intercept_init=intercept_init, sample_weight=sample_weight)


def test_sgd_gets_its_class_weight_as_a_dict_it_applies_one_vs_rest(imbalanced):
    # SGD weights class c only in its own binary problem: the weights cannot be folded into row weights,
    # so the student gets them as its class_weight, "balanced" computed from the soft counts of rows.
    X, y, sample_weight, teacher = imbalanced
    distilled = DistilledClassifier(
        teacher, ClassWeightRecordingSGD(loss="log_loss", class_weight="balanced", random_state=0), alpha=0.3, T=2.0
    ).fit(X, y, sample_weight=sample_weight)
    log_proba = np.log(np.maximum(teacher.predict_proba(X), 1e-300))
    soft = 0.3 * np.eye(3)[y] + 0.7 * softmax(log_proba / 2.0, axis=1)
    expected = len(y) / (3 * soft.sum(axis=0))
    fitted = distilled.student_.class_weight_in_fit_
    assert sorted(fitted) == [0, 1, 2]
    assert distilled.student_.class_weight == "balanced"  # the user's parameter, after the fit
    np.testing.assert_allclose([fitted[c] for c in range(3)], expected, rtol=1e-6)


@pytest.mark.parametrize("labels", [["a", "b", "c"], [1, 2, 3]], ids=["strings", "one_to_three"])
@pytest.mark.parametrize("route", ["sample_weight", "too few rows"])
def test_hist_boosting_by_expanded_rows_takes_class_weight_with_any_labels(imbalanced, labels, route):
    # scikit-learn 1.9 reads HistGradientBoosting's class_weight by the positions of the labels: a dict
    # keyed by the labels raised (only after the teacher's pass). The weights are folded into the rows'.
    X, y, sample_weight, _ = imbalanced
    y = np.asarray(labels)[y]
    teacher = LogisticRegression(max_iter=500).fit(X, y)
    estimator = HistGradientBoostingClassifier(max_iter=8, random_state=0, early_stopping=False, class_weight="balanced")
    if route == "too few rows":  # fewer rows than classes: the boosting route falls back to expanded rows
        X, y, sample_weight = X[:2], np.asarray(labels)[[0, 1]], sample_weight[:2]
        distilled = DistilledClassifier(teacher, clone(estimator), alpha=0.5).fit(X, y, sample_weight=sample_weight)
        assert distilled.predict_proba(X).shape == (2, 3)
        return
    plain = clone(estimator).fit(X, y, sample_weight=sample_weight)
    distilled = DistilledClassifier(teacher, clone(estimator), alpha=1.0, route="sample_weight")
    distilled.fit(X, y, sample_weight=sample_weight)
    np.testing.assert_allclose(distilled.predict_proba(X), plain.predict_proba(X), rtol=0, atol=1e-6)
    assert distilled.student_.class_weight == "balanced"  # the user's, not the dict computed for the fit
    clone(distilled.student_).fit(X, y)
