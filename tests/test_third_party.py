"""LightGBM, XGBoost and CatBoost as students and teachers: met through their public API only.

Each test skips when its library is not installed (they are in the ``tests`` extra). The models are
small and single-threaded, to keep the file fast on a shared CPU.
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification
from sklearn.linear_model import LogisticRegression

from conftest import CountingModule, make_teacher_module
from skdistill import DistilledClassifier, MLPStudent, SklearnTeacher
from skdistill.metrics import fidelity_score
from skdistill.students._routing import as_student, is_scikit_learn_or_ours

LIBRARIES = ["lightgbm", "xgboost", "catboost"]
# The route route="auto" picks for each library's classifier: LightGBM and XGBoost take the soft
# cross-entropy as a custom objective (tests/test_boosting_students.py); CatBoost learns expanded rows.
AUTO_ROUTE = {"lightgbm": "boosting", "xgboost": "boosting", "catboost": "sample_weight"}
LABELS = {
    "0..K-1": np.array([0, 1, 2]),
    "strings": np.array(["ant", "bee", "cat"]),
    "other integers": np.array([3, 7, 9]),
}


def classifier(library, **params):
    """A small, single-threaded, seeded classifier of ``library`` (skips if it is not installed)."""
    pytest.importorskip(library)
    if library == "lightgbm":
        from lightgbm import LGBMClassifier

        defaults = {"n_estimators": 30, "num_leaves": 8, "n_jobs": 1, "verbose": -1, "random_state": 0}
        return LGBMClassifier(**{**defaults, **params})
    if library == "xgboost":
        from xgboost import XGBClassifier

        return XGBClassifier(**{"n_estimators": 30, "max_depth": 3, "n_jobs": 1, "random_state": 0, **params})
    from catboost import CatBoostClassifier

    defaults = {"iterations": 30, "depth": 4, "thread_count": 1, "verbose": 0, "random_seed": 0}
    return CatBoostClassifier(**{**defaults, "allow_writing_files": False, **params})


def regressor(library):
    pytest.importorskip(library)
    if library == "lightgbm":
        from lightgbm import LGBMRegressor

        return LGBMRegressor(n_estimators=20, num_leaves=8, n_jobs=1, verbose=-1, random_state=0)
    if library == "xgboost":
        from xgboost import XGBRegressor

        return XGBRegressor(n_estimators=20, max_depth=3, n_jobs=1, random_state=0)
    from catboost import CatBoostRegressor

    return CatBoostRegressor(
        iterations=20, depth=4, thread_count=1, verbose=0, random_seed=0, allow_writing_files=False
    )


def problem(n_classes, labels="0..K-1", n_samples=300):
    X, y = make_classification(
        n_samples=n_samples, n_features=6, n_informative=4, n_redundant=0, n_classes=n_classes, random_state=0
    )
    return X, LABELS[labels][y]


# ---- students ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("labels", list(LABELS))
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("library", LIBRARIES)
def test_student_learns_the_teacher(library, n_classes, labels):
    X, y = problem(n_classes, labels)
    teacher = LogisticRegression(max_iter=500).fit(X, y)
    clf = DistilledClassifier(teacher, classifier(library), T=2.0, alpha=0.0).fit(X, y)
    assert clf.route_ == AUTO_ROUTE[library]
    np.testing.assert_array_equal(clf.classes_, np.unique(y))
    np.testing.assert_array_equal(clf.student_classes_, clf.classes_)

    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), n_classes)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    predicted = clf.predict(X)
    np.testing.assert_array_equal(predicted, clf.classes_[proba.argmax(axis=1)])
    # Columns in the order of classes_: a permutation would destroy the agreement with the teacher.
    assert fidelity_score(teacher.predict(X), predicted) > 0.9
    assert clf.score(X, y) > teacher.score(X, y) - 0.05
    if clf.route_ == "sample_weight":
        # The student itself is fitted on class positions: student_classes_ names them.
        np.testing.assert_array_equal(clf.student_classes_[np.ravel(clf.student_.predict(X)).astype(int)], predicted)
    else:
        np.testing.assert_array_equal(clf.student_.predict(X), predicted)


@pytest.mark.parametrize("library", LIBRARIES)
def test_student_of_a_class_the_teacher_rules_out(library):
    # With alpha=0 no expanded row is labelled "bee": XGBoost demands labels 0 .. K-1, all present.
    X, y = problem(3, "strings")

    class NeverBee:
        classes_ = LABELS["strings"]

        def predict_proba(self, X):
            p = np.zeros((len(X), 3))
            p[:, 0] = 1 / (1 + np.exp(-X[:, 0]))
            p[:, 2] = 1 - p[:, 0]
            return p

    clf = DistilledClassifier(NeverBee(), classifier(library), alpha=0.0, route="sample_weight").fit(X, y)
    np.testing.assert_array_equal(clf.classes_, ["ant", "bee", "cat"])
    np.testing.assert_array_equal(clf.student_classes_, ["ant", "cat"])
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3) and (proba[:, 1] == 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert (clf.predict_log_proba(X)[:, 1] == -np.inf).all()
    teacher_says = np.where(X[:, 0] > 0, "ant", "cat")
    assert fidelity_score(teacher_says, clf.predict(X)) > 0.9


@pytest.mark.parametrize("library", LIBRARIES)
def test_student_scikit_learn_helpers_and_validation(library, monkeypatch):
    student = classifier(library)
    assert not is_scikit_learn_or_ours(student)
    assert is_scikit_learn_or_ours(LogisticRegression()) and is_scikit_learn_or_ours(MLPStudent())

    def private_api_called(self):
        raise AssertionError("scikit-learn's private _validate_params was called on a third-party estimator")

    monkeypatch.setattr(type(student), "_validate_params", private_api_called, raising=False)
    prepared = as_student(student)
    assert prepared.route == AUTO_ROUTE[library] and prepared.estimator is not student
    X, y = problem(3, "strings")
    clf = clone(DistilledClassifier(LogisticRegression(max_iter=500), student)).fit(X, y)
    assert clf.student_ is not student and clf.predict(X).dtype.kind == "U"


@pytest.mark.parametrize("library", LIBRARIES)
def test_regressor_student(library):
    X, y = problem(3, "strings")
    teacher = LogisticRegression(max_iter=500).fit(X, y)
    clf = DistilledClassifier(teacher, regressor(library)).fit(X, y)
    assert clf.route_ == "regression_proba"
    assert fidelity_score(teacher.predict(X), clf.predict(X)) > 0.85


EARLY_STOPPING = [
    ("lightgbm", {"early_stopping_round": 5}, "early_stopping_round=None"),
    ("lightgbm", {"early_stopping_rounds": 5}, "early_stopping_rounds=None"),
    ("lightgbm", {"early_stopping": 5}, "early_stopping=False"),
    ("lightgbm", {"n_iter_no_change": 5}, "n_iter_no_change=None"),
    ("xgboost", {"early_stopping_rounds": 5}, "early_stopping_rounds=None"),
    ("xgboost", "callback", "callbacks without EarlyStopping"),
    ("catboost", {"early_stopping_rounds": 5}, "early_stopping_rounds=None"),
    ("catboost", {"od_type": "Iter", "od_wait": 5}, "od_type=None and od_wait=None"),
    ("catboost", {"od_pval": 0.01}, "od_pval=None"),
    ("catboost", {"eval_fraction": 0.2}, "eval_fraction=None"),
    ("catboost", {"use_best_model": True}, "use_best_model=False"),
]


@pytest.mark.parametrize(("library", "params", "turn_off"), EARLY_STOPPING)
def test_early_stopping_is_refused_before_the_teacher_runs(library, params, turn_off):
    if params == "callback":
        xgboost = pytest.importorskip("xgboost")
        params = {"callbacks": [xgboost.callback.EarlyStopping(rounds=3)]}
    X, y = problem(3)
    counting = CountingModule(make_teacher_module())
    with pytest.raises(ValueError, match="early stopping would validate on expanded rows") as error:
        DistilledClassifier(counting, classifier(library, **params)).fit(X.astype(np.float32), y)
    assert all(setting in str(error.value) for setting in turn_off.split(" and "))
    assert counting.rows_scored == 0


@pytest.mark.parametrize("library", LIBRARIES)
def test_early_stopping_turned_off_is_accepted(library):
    off = {"lightgbm": {"early_stopping_round": 0}, "xgboost": {"early_stopping_rounds": None}}
    params = off.get(library, {"od_pval": 0})
    X, y = problem(2)
    clf = DistilledClassifier(LogisticRegression(), classifier(library, **params)).fit(X, y)
    assert clf.route_ == AUTO_ROUTE[library]


def test_lightgbm_class_weight_dict_keyed_by_label():
    # The student is fitted on positions: a dict keyed by label must still weight the right class.
    X, y = problem(3, "strings")
    teacher = LogisticRegression(max_iter=500).fit(X, y)
    plain = DistilledClassifier(teacher, classifier("lightgbm"), alpha=0.0).fit(X, y)
    weighted = DistilledClassifier(teacher, classifier("lightgbm", class_weight={"bee": 20.0}), alpha=0.0).fit(X, y)
    assert (weighted.predict(X) == "bee").sum() > (plain.predict(X) == "bee").sum()


def test_catboost_auto_class_weights_come_from_the_soft_counts():
    pytest.importorskip("catboost")
    from skdistill.students._soft_weights import _catboost_auto_class_weights

    # soft counts 2.2 and 0.8: CatBoost counts whole weights (2.2 counts 2), a count below 1 is kept
    soft_labels = np.array([[0.9, 0.1], [0.7, 0.3], [0.6, 0.4]])
    classes = np.array(["a", "b"])
    np.testing.assert_allclose(_catboost_auto_class_weights("Balanced", soft_labels, classes, None), [1, 2 / 0.8])
    np.testing.assert_allclose(
        _catboost_auto_class_weights("SqrtBalanced", soft_labels, classes, None), [1, np.sqrt(2 / 0.8)]
    )
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, n_redundant=0, n_classes=3, weights=[0.8, 0.15], random_state=0
    )
    teacher = LogisticRegression(max_iter=500).fit(X, y)
    balanced = DistilledClassifier(teacher, classifier("catboost", auto_class_weights="Balanced"), alpha=0.0).fit(X, y)
    assert balanced.student_.get_params()["auto_class_weights"] == "None"  # applied to the expanded rows instead
    rare = np.argmin(teacher.predict_proba(X).sum(axis=0))
    plain = DistilledClassifier(teacher, classifier("catboost"), alpha=0.0).fit(X, y)
    assert (balanced.predict(X) == teacher.classes_[rare]).sum() > (plain.predict(X) == teacher.classes_[rare]).sum()


# ---- teachers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n_classes", "labels"), [(2, "other integers"), (3, "strings")])
@pytest.mark.parametrize("library", LIBRARIES)
def test_unfitted_teacher(library, n_classes, labels):
    X, y = problem(n_classes, labels)
    model = classifier(library)
    clf = DistilledClassifier(model, classifier(library), alpha=0.5).fit(X, y)
    assert not hasattr(model, "classes_") or library == "catboost" and not model.is_fitted()
    np.testing.assert_array_equal(clf.teacher_.classes_, np.unique(y))
    np.testing.assert_array_equal(clf.classes_, np.unique(y))
    teacher_proba = clf.teacher_proba(X)
    np.testing.assert_allclose(teacher_proba.sum(axis=1), 1.0, atol=1e-6)
    assert (clf.classes_[teacher_proba.argmax(axis=1)] == y).mean() > 0.85
    assert fidelity_score(clf.classes_[teacher_proba.argmax(axis=1)], clf.predict(X)) > 0.85


@pytest.mark.parametrize("library", LIBRARIES)
def test_fitted_teacher_is_used_as_it_is(library):
    # XGBoost can only be fitted on 0 .. K-1; the others take strings.
    X, y = problem(3, "0..K-1" if library == "xgboost" else "strings")
    model = classifier(library).fit(X, y)
    clf = DistilledClassifier(model, classifier(library), alpha=0.5).fit(X, y)
    assert clf.teacher_.estimator_ is model
    np.testing.assert_array_equal(clf.teacher_.classes_, model.classes_)
    np.testing.assert_allclose(clf.teacher_proba(X), model.predict_proba(X), atol=1e-6)
    assert fidelity_score(np.ravel(model.predict(X)), clf.predict(X)) > 0.85


def test_unfitted_teacher_class_weight_dict_is_translated_to_positions():
    lightgbm = pytest.importorskip("lightgbm")
    X, y = problem(3, "strings")
    class_weight = {"ant": 1.0, "bee": 5.0, "cat": 0.5}
    teacher = SklearnTeacher(classifier("lightgbm", class_weight=class_weight)).fit(X, y)
    assert teacher.estimator_.get_params()["class_weight"] == {0: 1.0, 1: 5.0, 2: 0.5}
    # LightGBM takes strings itself: the model fitted on positions is the one fitted on labels.
    reference = classifier("lightgbm", class_weight=class_weight).fit(X, y)
    assert isinstance(reference, lightgbm.LGBMClassifier)
    np.testing.assert_allclose(teacher.predict_proba(X), reference.predict_proba(X), atol=1e-12)
    with pytest.raises(ValueError, match=r"class_weight has weights for \['dog'\]"):
        SklearnTeacher(classifier("lightgbm", class_weight={"dog": 2.0})).fit(X, y)


def test_subclasses_of_scikit_learn_models_keep_their_labels():
    # Only other libraries' models are fitted on label positions; a class built on a scikit-learn
    # model (a user's subclass, imbalanced-learn's forests) takes the labels as they are.
    from sklearn.naive_bayes import GaussianNB

    from skdistill.students._routing import takes_any_labels

    class MyNB(GaussianNB):
        pass

    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    model = DistilledClassifier(GaussianNB().fit(X, labels), MyNB()).fit(X, labels)
    assert model.student_.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    assert set(model.student_.predict(X)) <= set(labels)
    assert takes_any_labels(MyNB()) and not takes_any_labels(_Unrelated())
    for name in ("lightgbm", "xgboost"):
        library = pytest.importorskip(name)
        model_class = library.LGBMClassifier if name == "lightgbm" else library.XGBClassifier
        assert not takes_any_labels(model_class())


class _Unrelated:
    def fit(self, X, y, sample_weight=None):
        return self


@pytest.mark.parametrize("library", ["xgboost", "lightgbm"])
def test_an_unfitted_pipeline_around_another_librarys_model_takes_string_labels(library):
    # A Pipeline counted as scikit-learn's, so a pipeline around XGBoost was fitted on string labels.
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    X, y = problem(3, "strings")
    teacher = make_pipeline(StandardScaler(), classifier(library))
    clf = DistilledClassifier(teacher, DecisionTreeClassifier(max_depth=4, random_state=0)).fit(X, y)
    assert clf.classes_.tolist() == sorted(set(y.tolist()))
    assert set(clf.predict(X)) <= set(y.tolist())
    assert fidelity_score(clf.teacher_.predict(X), clf.predict(X)) > 0.8


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_third_party_teacher_is_cached_by_its_package_version(library):
    # The key described LightGBM's and CatBoost's classes by their code, recursively through the
    # library's globals: deep enough to exceed Python's recursion limit after other tests had run,
    # which left these teachers uncached with a warning. Installed packages are named by version.
    import warnings

    from skdistill import clear_teacher_cache, teacher_cache_info
    from skdistill._cache import _versioned_name

    module = pytest.importorskip(library)
    X, y = problem(3, "strings")
    clear_teacher_cache()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        for _ in range(2):
            DistilledClassifier(classifier(library), LogisticRegression(max_iter=500)).fit(X, y)
    assert teacher_cache_info().hits == 1
    name = _versioned_name(type(classifier(library)))
    assert name[0] == "versioned" and name[-1] == module.__version__
