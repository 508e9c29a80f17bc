"""TeacherEnsemble: the documented combinations, parameters and cloning, per-member caching, and bad input."""

import pickle
import types

import numpy as np
import pytest
import scipy.sparse
import torch
from scipy.special import softmax
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils._param_validation import InvalidParameterError

from conftest import CountingModule, assert_unchanged, make_teacher_module, snapshot
from skdistill import (
    DistilledClassifier,
    SklearnTeacher,
    TeacherEnsemble,
    TorchTeacher,
    teacher_cache_info,
)
from skdistill._ensemble import ensemble_of
from skdistill.teachers import _TeacherAdapter, is_trained

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY = np.finfo(np.float64).tiny


def module_proba(module, X):
    with torch.no_grad():
        return softmax(module(torch.from_numpy(X)).double().numpy(), axis=1)


def student():
    return LogisticRegression(max_iter=1000)


@pytest.fixture
def forest(data):
    X, y = data
    return RandomForestClassifier(n_estimators=10, max_depth=3, random_state=0).fit(X, y)


def expected_proba(members_proba, weights, combine):
    """The combination as the docstring writes it, from the members' own probabilities."""
    weights = np.asarray(weights, dtype=float) / np.sum(weights)
    if combine == "proba":
        return sum(w * p for w, p in zip(weights, members_proba))
    geometric = np.exp(sum(w * np.log(np.maximum(p, TINY)) for w, p in zip(weights, members_proba)))
    return geometric / geometric.sum(axis=1, keepdims=True)


# --- The combination -------------------------------------------------------------------------------


@pytest.mark.parametrize("combine", ["logits", "proba"])
def test_teacher_proba_is_the_documented_combination_of_mixed_kinds(data, teacher_module, forest, combine):
    X, y = data
    weights = [1.0, 2.0, 0.5]
    ensemble = TeacherEnsemble(
        [("net", teacher_module), ("forest", forest), ("logistic", LogisticRegression())],
        weights=weights,
        combine=combine,
    )
    clf = DistilledClassifier(ensemble, student()).fit(X, y)
    members = [module_proba(teacher_module, X), forest.predict_proba(X), LogisticRegression().fit(X, y).predict_proba(X)]
    np.testing.assert_allclose(clf.teacher_proba(X), expected_proba(members, weights, combine), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(clf.teacher_.weights_, np.array(weights) / 3.5)
    assert list(clf.teacher_.named_teachers_) == ["net", "forest", "logistic"]
    assert isinstance(clf.teacher_.named_teachers_["net"], TorchTeacher)
    assert clf.teacher_.named_teachers_["forest"].estimator_ is forest  # trained: used as it is


@pytest.mark.parametrize("combine", ["logits", "proba"])
def test_weights_one_and_zero_reproduce_the_first_teacher_alone(data, teacher_module, forest, combine):
    X, y = data
    ensemble = TeacherEnsemble([("forest", forest), ("net", teacher_module)], weights=[1, 0], combine=combine)
    together = DistilledClassifier(ensemble, student(), T=2.0, alpha=0.3).fit(X, y)
    alone = DistilledClassifier(forest, student(), T=2.0, alpha=0.3).fit(X, y)
    np.testing.assert_allclose(together.teacher_proba(X), alone.teacher_proba(X), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(together.student_.coef_, alone.student_.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(together.predict(X), alone.predict(X))


@pytest.mark.parametrize("as_list", [False, True])
def test_one_teacher_equals_that_teacher_given_alone(data, teacher_module, as_list):
    X, y = data
    teacher = [teacher_module] if as_list else TeacherEnsemble([("net", teacher_module)])
    together = DistilledClassifier(teacher, student(), T=3.0).fit(X, y)
    alone = DistilledClassifier(teacher_module, student(), T=3.0).fit(X, y)
    np.testing.assert_allclose(together.teacher_proba(X), alone.teacher_proba(X), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(together.student_.coef_, alone.student_.coef_, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(together.classes_, alone.classes_)
    assert together.fidelity(X) == alone.fidelity(X)


def test_proba_combines_teachers_scoring_different_classes_over_their_union(data):
    X, y = data
    three = LogisticRegression().fit(X, y)
    two = LogisticRegression().fit(X[y < 2], y[y < 2])
    ensemble = TeacherEnsemble([("three", three), ("two", two)], weights=[1, 3], combine="proba")
    clf = DistilledClassifier(ensemble, student()).fit(X, y)
    two_over_three = np.column_stack([two.predict_proba(X), np.zeros(len(X))])  # 0 for the class it does not score
    expected = 0.25 * three.predict_proba(X) + 0.75 * two_over_three  # float32 probabilities: a float32 X
    np.testing.assert_allclose(clf.teacher_proba(X), expected, rtol=1e-6, atol=1e-12)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])

    with pytest.raises(ValueError, match=r"combine='logits'.*same classes.*'two' scores \[0, 1\].*combine='proba'"):
        DistilledClassifier(clone(ensemble).set_params(combine="logits"), student()).fit(X, y)


def test_a_members_columns_are_matched_by_label(data, teacher_module):
    X, y = data
    labels = np.array(["a", "b", "c"])[y]
    reordered = TorchTeacher(teacher_module, classes=["c", "a", "b"])
    fitted = LogisticRegression().fit(X, labels)
    clf = DistilledClassifier([reordered, fitted], student()).fit(X, labels)
    members = [module_proba(teacher_module, X)[:, [1, 2, 0]], fitted.predict_proba(X)]
    np.testing.assert_allclose(clf.teacher_proba(X), expected_proba(members, [1, 1], "logits"), rtol=1e-5)


def test_logits_and_predict_proba_of_the_adapter_alone(data, teacher_module, forest):
    X, y = data
    ensemble = TeacherEnsemble([("net", teacher_module), ("forest", forest)], combine="proba")
    logits = ensemble.fit_logits(X, y)
    np.testing.assert_allclose(logits, ensemble.logits(X))
    expected = 0.5 * module_proba(teacher_module, X) + 0.5 * forest.predict_proba(X)
    np.testing.assert_allclose(ensemble.predict_proba(X), expected, rtol=1e-5, atol=1e-7)
    assert ensemble.task == "classification"
    assert teacher_cache_info().misses == 0  # outside a distiller: not cached (memory=False)


# --- Parameters, clone, pickle -----------------------------------------------------------------------


def test_parameters_of_unfitted_members_are_offered_and_trained_ones_are_not(teacher_module, forest):
    clf = DistilledClassifier(
        TeacherEnsemble([("net", teacher_module), ("forest", forest), ("logistic", LogisticRegression())]),
        student(),
    )
    params = clf.get_params()
    assert params["teacher__weights"] is None and params["teacher__combine"] == "logits"
    assert params["teacher__logistic__C"] == 1.0
    assert params["teacher__forest"] is forest
    assert not [key for key in params if key.startswith(("teacher__forest__", "teacher__net__"))]

    clf.set_params(teacher__weights=[1, 2, 3], teacher__logistic__C=0.5, teacher__combine="proba")
    assert clf.teacher.weights == [1, 2, 3] and clf.teacher.combine == "proba"
    assert clf.teacher.get_params()["logistic__C"] == 0.5
    with pytest.raises(ValueError, match=r"Cannot set forest__n_estimators: the forest is already trained"):
        clf.set_params(teacher__forest__n_estimators=3)


def test_clone_shares_trained_members_and_copies_unfitted_ones(teacher_module, forest):
    logistic = LogisticRegression(C=0.3)
    adapter = SklearnTeacher(forest)
    ensemble = TeacherEnsemble(
        [("net", teacher_module), ("forest", forest), ("logistic", logistic), ("adapter", adapter)], weights=[1, 1, 1, 2]
    )
    for cloned in (clone(ensemble), clone(DistilledClassifier(ensemble)).teacher):
        members = dict(cloned.teachers)
        assert members["net"] is teacher_module and members["forest"] is forest
        assert members["logistic"] is not logistic and members["logistic"].C == 0.3
        assert members["adapter"] is not adapter and members["adapter"].estimator is forest
        assert cloned.weights == [1, 1, 1, 2]
    # A plain list is passed on as it is: its members are only read.
    teachers = [teacher_module, LogisticRegression()]
    assert clone(DistilledClassifier(teachers)).teacher is teachers


def test_a_member_is_replaced_or_dropped_by_name(data, teacher_module, forest):
    X, y = data
    counting = CountingModule(teacher_module)
    clf = DistilledClassifier(TeacherEnsemble([("net", counting), ("forest", forest)], weights=[5, 1]), student())
    clf.set_params(teacher__net="drop").fit(X, y)
    assert counting.rows_scored == 0
    assert list(clf.teacher_.named_teachers_) == ["forest"]
    alone = DistilledClassifier(forest, student()).fit(X, y)
    np.testing.assert_allclose(clf.teacher_proba(X), alone.teacher_proba(X), rtol=1e-12)

    clf.set_params(teacher__net=LogisticRegression())
    assert isinstance(dict(clf.teacher.teachers)["net"], LogisticRegression)
    assert clf.get_params()["teacher__net__C"] == 1.0


def test_pickle_round_trip_predicts_the_same(data, teacher_module, forest):
    X, y = data
    clf = DistilledClassifier([teacher_module, forest], student()).fit(X, y)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_allclose(loaded.teacher_proba(X), clf.teacher_proba(X), rtol=1e-6)
    assert loaded.teacher_.weights_.tolist() == [0.5, 0.5]
    refit = clone(loaded).fit(X, y)
    np.testing.assert_allclose(refit.predict_proba(X), clf.predict_proba(X), rtol=1e-6)


@pytest.mark.parametrize("as_list", [False, True])
def test_skops_round_trip_stores_each_module_once(data, teacher_module, forest, as_list):
    sio = pytest.importorskip("skops.io")
    X, y = data
    members = [teacher_module, forest, LogisticRegression()]
    teacher = members if as_list else TeacherEnsemble(list(zip(["net", "forest", "logistic"], members)), weights=[1, 2, 3])
    clf = DistilledClassifier(teacher, student()).fit(X, y)
    saved = sio.dumps(clf)
    untrusted = sio.get_untrusted_types(data=saved)
    assert not [name for name in untrusted if name.startswith("torch._")]  # modules travel as numpy arrays
    loaded = sio.loads(saved, trusted=untrusted)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.teacher_proba(X), clf.teacher_proba(X))
    module = loaded.teacher[0] if as_list else dict(loaded.teacher.teachers)["net"]
    assert isinstance(module, torch.nn.Sequential)
    assert module is loaded.teacher_.teachers[0][1]  # one module: the parameter, the member and its adapter
    assert module is loaded.teacher_.teachers_[0].module
    assert clf.teacher_.teachers_[0].module is teacher_module  # saving left the original alone


def test_the_users_teachers_are_not_modified(data):
    X, y = data
    module = make_teacher_module()
    module.train()  # a module in training mode, with gradients on: both must be as they were
    before = snapshot(module)
    logistic = LogisticRegression()
    teachers = [("net", module), ("logistic", logistic)]
    DistilledClassifier(TeacherEnsemble(teachers), student()).fit(X, y)
    DistilledClassifier([module, logistic], student()).fit(X, y)
    assert_unchanged(module, before)
    assert not hasattr(logistic, "coef_")
    assert teachers == [("net", module), ("logistic", logistic)]


def test_a_list_is_named_as_make_pipeline_names_steps(teacher_module, forest):
    ensemble = ensemble_of([teacher_module, forest, make_teacher_module(seed=1), LogisticRegression()])
    names = [name for name, _ in ensemble.teachers]
    assert names == ["sequential-1", "randomforestclassifier", "sequential-2", "logisticregression"]
    assert ensemble.weights is None


def test_is_trained_answers_for_lists_and_ensembles(teacher_module, forest):
    assert is_trained([teacher_module, forest])
    assert not is_trained([teacher_module, LogisticRegression()])
    assert is_trained(TeacherEnsemble([("net", teacher_module), ("forest", forest)]))
    assert not is_trained(TeacherEnsemble([("net", teacher_module), ("logistic", LogisticRegression())]))
    assert is_trained(TeacherEnsemble([("net", teacher_module), ("logistic", "drop")]))


def test_pure_distillation_from_trained_teachers_needs_no_labels(data, teacher_module, forest):
    X, y = data
    clf = DistilledClassifier([teacher_module, forest], student(), alpha=0.0)
    assert not clf.__sklearn_tags__().target_tags.required
    clf.fit(X)
    assert clf.classes_.tolist() == [0, 1, 2]
    assert clf.fidelity(X) > 0.7


def test_partial_fit_streams_from_trained_teachers(data, teacher_module, forest):
    from sklearn.linear_model import SGDClassifier

    X, y = data
    clf = DistilledClassifier([teacher_module, forest], SGDClassifier(loss="log_loss", random_state=0))
    for chunk in np.array_split(np.arange(len(X)), 3):
        clf.partial_fit(X[chunk], y[chunk], classes=[0, 1, 2])
    np.testing.assert_allclose(clf.teacher_proba(X), DistilledClassifier([teacher_module, forest]).fit(X, y).teacher_proba(X))
    assert not hasattr(DistilledClassifier([teacher_module, LogisticRegression()], SGDClassifier()), "partial_fit")


# --- Caching: each member on its own -------------------------------------------------------------------

# Counts kept in objects' attributes, which the cache key does not read (see the user guide).
SCORED = types.SimpleNamespace(rows=0)
FITS = types.SimpleNamespace(count=0)


class RowCountingModule(torch.nn.Module):
    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        SCORED.rows += x.shape[0]
        return self.module(x)


class FitCountingLogisticRegression(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        FITS.count += 1
        return super().fit(X, y, sample_weight=sample_weight)


def test_a_grid_over_the_weights_runs_each_teacher_once_per_fold(data, teacher_module):
    X, y = data
    SCORED.rows, FITS.count = 0, 0
    ensemble = TeacherEnsemble([("net", RowCountingModule(teacher_module)), ("logistic", FitCountingLogisticRegression())])
    grid = {"teacher__weights": [[1, 0], [1, 1], [0, 1], [2, 1]], "teacher__combine": ["logits", "proba"]}
    n_folds, n_candidates = 3, 8
    GridSearchCV(DistilledClassifier(ensemble, student()), grid, cv=n_folds).fit(X, y)
    # Each fold's training rows (2/3 of the rows) once per fold, then all rows for the refit.
    assert SCORED.rows == n_folds * (2 * len(X) // 3) + len(X)
    assert FITS.count == n_folds + 1
    info = teacher_cache_info()
    assert info.misses == 2 * (n_folds + 1)
    assert info.hits == 2 * n_folds * (n_candidates - 1)


def test_a_member_hits_the_outputs_of_the_same_teacher_used_alone(data, teacher_module, forest):
    X, y = data
    DistilledClassifier(teacher_module, student()).fit(X, y)
    DistilledClassifier(TeacherEnsemble([("net", teacher_module), ("forest", forest)]), student()).fit(X, y)
    assert teacher_cache_info().hits == 1  # the module; the forest ran once


def test_out_of_fold_outputs_come_from_each_unfitted_members_fold_fits(data, teacher_module):
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from skdistill import _cache

    X, y = data
    splits = list(StratifiedKFold(3).split(X, y))
    ensemble = TeacherEnsemble([("net", teacher_module), ("logistic", LogisticRegression())], weights=[1, 3], combine="proba")
    outputs = _cache.out_of_fold_logits(ensemble, X, y, None, splits, memory=False)
    out_of_fold = cross_val_predict(LogisticRegression(), X, y, cv=splits, method="predict_proba")
    np.testing.assert_allclose(softmax(outputs, axis=1), 0.25 * module_proba(teacher_module, X) + 0.75 * out_of_fold, rtol=1e-5)
    assert ensemble.named_teachers_["logistic"].estimator_.coef_.shape == (3, X.shape[1])  # fitted on all rows


def test_a_grid_over_the_weights_with_teacher_cv_fits_each_member_once_per_fold(data, teacher_module):
    X, y = data
    SCORED.rows, FITS.count = 0, 0
    ensemble = TeacherEnsemble([("net", RowCountingModule(teacher_module)), ("logistic", FitCountingLogisticRegression())])
    search = GridSearchCV(
        DistilledClassifier(ensemble, student(), teacher_cv=3), {"teacher__weights": [[1, 0], [1, 1], [1, 3]]}, cv=2
    )
    search.fit(X, y)
    # Per fit of the search (2 folds, then the refit): the logistic member on all rows and on 3 folds.
    assert FITS.count == (2 + 1) * (1 + 3)
    assert SCORED.rows == 2 * (len(X) // 2) + len(X)  # the trained member: its outputs, once per fit


def test_memory_false_caches_no_member(data, teacher_module, forest):
    X, y = data
    clf = DistilledClassifier([teacher_module, forest], student(), memory=False).fit(X, y)
    clf.teacher_proba(X)
    info = teacher_cache_info()
    assert (info.hits, info.misses, info.entries) == (0, 0, 0)


# --- Bad input: a clear error before any teacher runs --------------------------------------------------

BAD_ENSEMBLES = {
    "duplicate names": (lambda net, lr: TeacherEnsemble([("a", net), ("a", lr)]), ValueError, r"unique; \['a'\]"),
    "__ in a name": (lambda net, lr: TeacherEnsemble([("a__b", net), ("c", lr)]), ValueError, r"'__'.*\['a__b'\]"),
    "name clash": (lambda net, lr: TeacherEnsemble([("weights", net), ("c", lr)]), ValueError, r"parameters.*\['weights'\]"),
    "empty ensemble": (lambda net, lr: TeacherEnsemble([]), ValueError, "empty list"),
    "empty list": (lambda net, lr: [], ValueError, "empty list"),
    "weights too short": (
        lambda net, lr: TeacherEnsemble([("a", net), ("b", lr)], weights=[1]),
        ValueError,
        r"one entry per teacher.*2 teachers.*has 1",
    ),
    "weights 2-d": (
        lambda net, lr: TeacherEnsemble([("a", net), ("b", lr)], weights=[[1, 1]]),
        ValueError,
        r"one entry per teacher.*shape \(1, 2\)",
    ),
    "negative weight": (
        lambda net, lr: TeacherEnsemble([("a", net), ("b", lr)], weights=[1, -1]),
        ValueError,
        r"non-negative; got \[1, -1\]",
    ),
    "nan weight": (lambda net, lr: TeacherEnsemble([("a", net), ("b", lr)], weights=[1, np.nan]), ValueError, "finite"),
    "all-zero weights": (
        lambda net, lr: TeacherEnsemble([("a", net), ("b", lr)], weights=[0, 0]),
        ValueError,
        r"\['a', 'b'\] are all 0.*at least one must be positive",
    ),
    "zero weight left": (
        lambda net, lr: TeacherEnsemble([("a", net), ("b", "drop")], weights=[0, 1]),
        ValueError,
        r"\['a'\] are all 0",
    ),
    "all dropped": (lambda net, lr: TeacherEnsemble([("a", "drop"), ("b", "drop")]), ValueError, "Every teacher is dropped"),
    "not a teacher": (
        lambda net, lr: TeacherEnsemble([("a", net), ("b", "dorp")]),
        TypeError,
        r"Teacher 'b' of the ensemble: teacher must be .*got str",
    ),
    "not a teacher in a list": (lambda net, lr: [net, 42], TypeError, r"Teacher 'int' of the ensemble.*got int"),
    "not pairs": (lambda net, lr: TeacherEnsemble([net, lr]), TypeError, r"list of \(name, teacher\) tuples"),
    "mixed tasks": (
        lambda net, lr: TeacherEnsemble([("a", net), ("b", lr), ("ridge", Ridge())]),
        ValueError,
        r"all be classifiers or all be regressors.*classification: \['b'\]; regression: \['ridge'\]",
    ),
    "bad combine": (
        lambda net, lr: TeacherEnsemble([("a", net), ("b", lr)], combine="mean"),
        InvalidParameterError,
        "combine",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ENSEMBLES))
def test_bad_input_is_refused_before_any_teacher_runs(data, teacher_module, case):
    X, y = data
    make, error, match = BAD_ENSEMBLES[case]
    counting = CountingModule(teacher_module)
    FITS.count = 0
    teacher = make(counting, FitCountingLogisticRegression())
    with pytest.raises(error, match=match):
        DistilledClassifier(teacher, student()).fit(X, y)
    assert counting.rows_scored == 0
    assert FITS.count == 0


class FitCountingForest(RandomForestClassifier):  # takes missing values and sparse matrices
    def fit(self, X, y, sample_weight=None):
        FITS.count += 1
        return super().fit(X, y, sample_weight=sample_weight)

    def predict_proba(self, X):
        SCORED.rows += X.shape[0]
        return super().predict_proba(X)


@pytest.mark.parametrize("kind", ["missing values", "sparse matrix"])
def test_input_a_torch_member_cannot_take_is_refused_before_any_member_is_fitted(data, teacher_module, kind):
    X, y = data
    if kind == "missing values":
        X = X.copy()
        X[3, 1] = np.nan
        error, message = ValueError, r"Teacher 'net' of the ensemble: Input X contains NaN"
    else:
        X = scipy.sparse.csr_matrix(X)
        error, message = TypeError, r"Teacher 'net' of the ensemble: Sparse data was passed for X"
    counting = CountingModule(teacher_module)
    FITS.count = 0
    # The forest comes first: it used to be fitted (and run) before the module refused X.
    teacher = TeacherEnsemble([("forest", FitCountingForest(n_estimators=5, random_state=0)), ("net", counting)])
    student = DecisionTreeClassifier(max_depth=3)  # takes both, so the distiller lets X through
    with pytest.raises(error, match=message):
        DistilledClassifier(teacher, student).fit(X, y)
    assert FITS.count == 0
    assert counting.rows_scored == 0


def test_a_fitted_ensemble_refuses_input_a_torch_member_cannot_take_before_any_member_runs(data, teacher_module):
    X, y = data
    forest = FitCountingForest(n_estimators=5, random_state=0)
    ensemble = TeacherEnsemble([("forest", forest), ("net", teacher_module)]).fit(X, y)
    with_nan = X.copy()
    with_nan[3, 1] = np.nan
    SCORED.rows = 0
    with pytest.raises(ValueError, match=r"Teacher 'net' of the ensemble: Input X contains NaN"):
        ensemble.logits(with_nan)
    assert SCORED.rows == 0


def test_an_unfitted_member_without_labels_is_named(data, teacher_module):
    X, _ = data
    counting = CountingModule(teacher_module)
    clf = DistilledClassifier([counting, LogisticRegression()], student(), alpha=0.0)
    with pytest.raises(ValueError, match=r"Teacher 'logisticregression' of the ensemble: The teacher LogisticRegression is not fitted"):
        clf.fit(X)
    assert counting.rows_scored == 0


def test_labels_of_different_types_are_refused(data, teacher_module):
    X, y = data
    named = LogisticRegression().fit(X, np.array(["a", "b", "c"])[y])
    with pytest.raises(ValueError, match=r"values of different types.*'logisticregression' scores \['a', 'b', 'c'\]"):
        DistilledClassifier(TeacherEnsemble([("net", teacher_module), ("logisticregression", named)], combine="proba"), student()).fit(X, y)


# --- Regression ------------------------------------------------------------------------------------------


class LinearStubTeacher(_TeacherAdapter):
    """A regression adapter of this file's own: ``X @ coef``, whatever the regression adapters of the package."""

    def __init__(self, coef):
        self.coef = coef

    @property
    def task(self):
        return "regression"

    def fit(self, X, y=None, sample_weight=None):
        self.n_outputs_ = np.asarray(self.coef).shape[1]
        return self

    def logits(self, X):
        return np.asarray(X, dtype=np.float64) @ np.asarray(self.coef, dtype=np.float64)


def test_regression_members_are_combined_by_their_weighted_mean(data):
    X = data[0].astype(np.float64)
    rng = np.random.RandomState(0)
    coefs = [rng.normal(size=(X.shape[1], 2)) for _ in range(3)]
    ensemble = TeacherEnsemble([(f"t{i}", LinearStubTeacher(coef)) for i, coef in enumerate(coefs)], weights=[1, 3, 0])
    assert ensemble.task == "regression"
    outputs = ensemble.fit_logits(X)
    np.testing.assert_allclose(outputs, 0.25 * X @ coefs[0] + 0.75 * X @ coefs[1], rtol=1e-12)
    assert ensemble.n_outputs_ == 2 and not hasattr(ensemble, "classes_")

    with pytest.raises(ValueError, match=r"combine='proba' applies to classification teachers only"):
        ensemble.set_params(combine="proba").fit(X)
    wide = TeacherEnsemble([("narrow", LinearStubTeacher(coefs[0])), ("wide", LinearStubTeacher(np.ones((X.shape[1], 3))))])
    with pytest.raises(ValueError, match=r"same number of outputs; got \{'narrow': 2, 'wide': 3\}"):
        wide.fit(X)


def _package_has_regression_teachers():
    return "values" in TorchTeacher._parameter_constraints["output"][0].options


@pytest.mark.skipif(not _package_has_regression_teachers(), reason="the package's regression adapters are not there")
def test_a_regression_ensemble_of_a_module_and_a_regressor(data):
    from skdistill import DistilledRegressor

    X, _ = data
    y = X @ np.arange(X.shape[1]) + 0.1
    net = torch.nn.Linear(X.shape[1], 1)
    ensemble = TeacherEnsemble([("net", net), ("ridge", Ridge())], weights=[1, 1])
    assert ensemble.task == "regression"  # the bare module takes the regressor's task
    regressor = DistilledRegressor(ensemble, LinearRegression(), alpha=0.0).fit(X, y)
    with torch.no_grad():
        net_outputs = net(torch.from_numpy(X)).double().numpy().ravel()
    expected = 0.5 * net_outputs + 0.5 * Ridge().fit(X, y).predict(X)
    np.testing.assert_allclose(regressor.teacher_predict(X).ravel(), expected, rtol=1e-5, atol=1e-6)


def test_partial_fit_names_the_labels_of_torch_members(data):
    """A chunk's y may lack labels: the torch members learn theirs from partial_fit's classes."""
    from sklearn.linear_model import SGDClassifier

    X, y = data
    labels = np.array(["ant", "bee", "cat"])[y]
    clf = DistilledClassifier(
        [make_teacher_module(seed=0), make_teacher_module(seed=1)], SGDClassifier(loss="log_loss", random_state=0)
    )
    clf.partial_fit(X[:50], labels[:50], classes=["ant", "bee", "cat"])
    clf.partial_fit(X[50:], labels[50:])
    assert clf.classes_.tolist() == ["ant", "bee", "cat"]
    assert set(clf.predict(X)) <= {"ant", "bee", "cat"}
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        DistilledClassifier([make_teacher_module(), make_teacher_module(seed=1)], SGDClassifier(loss="log_loss")).partial_fit(
            X[:50], labels[:50]
        )
