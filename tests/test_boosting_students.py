"""Route "boosting": LightGBM, XGBoost and HistGradientBoosting students boosted on the soft cross-entropy.

LightGBM and XGBoost tests skip when the library is not installed. Models are small and single-threaded.
"""

import pickle

import numpy as np
import pytest
from scipy.special import log_softmax, softmax
from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from conftest import CountingModule, make_teacher_module
from skdistill import BoostingStudent, DistilledClassifier
from skdistill.students import _soft_hist_boosting, as_student
from skdistill.students._soft_boosting import soft_cross_entropy_gradients
from skdistill.students._soft_class_weight import fold_class_weights
from skdistill.students._soft_hist_boosting import fit_soft_hist_boosting

KINDS = ["lightgbm", "xgboost", "hist"]


def booster(kind, **params):
    """A small, single-threaded, seeded booster of ``kind`` (skips if its library is not installed)."""
    if kind == "lightgbm":
        lightgbm = pytest.importorskip("lightgbm")
        defaults = {"n_estimators": 30, "num_leaves": 8, "n_jobs": 1, "verbose": -1, "random_state": 0}
        return lightgbm.LGBMClassifier(**{**defaults, **params})
    if kind == "xgboost":
        xgboost = pytest.importorskip("xgboost")
        return xgboost.XGBClassifier(**{"n_estimators": 30, "max_depth": 3, "n_jobs": 1, "random_state": 0, **params})
    return HistGradientBoostingClassifier(**{"max_iter": 30, "max_leaf_nodes": 8, "random_state": 0, **params})


def problem(n_classes, n_samples=400, seed=0, labels=None):
    X, y = make_classification(
        n_samples=n_samples, n_features=6, n_informative=4, n_redundant=0, n_classes=n_classes, random_state=seed
    )
    return X, (y if labels is None else np.asarray(labels)[y])


def raw_scores(student, X):
    """The fitted student's raw scores as a (n_samples, n_classes) softmax input."""
    raw = student.decision_function(X)
    return np.column_stack([np.zeros(len(raw)), raw]) if raw.ndim == 1 else raw


# ---- the route ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_boosters_take_the_boosting_route_automatically(kind):
    assert as_student(booster(kind)).route == "boosting"


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("kind", KINDS)
def test_predict_proba_is_the_softmax_of_the_raw_scores_and_labels_are_kept(kind, n_classes):
    X, y = problem(n_classes, labels=["ant", "bee", "cat"][:n_classes])
    teacher = LogisticRegression(max_iter=500).fit(X, y)
    template = booster(kind)
    params_before = repr(template.get_params())
    clf = DistilledClassifier(teacher, template, T=2.0, alpha=0.1).fit(X, y)
    assert clf.route_ == "boosting"
    assert repr(template.get_params()) == params_before  # the user's template is not touched
    student = clf.student_
    assert type(student) is (HistGradientBoostingClassifier if kind == "hist" else BoostingStudent)
    np.testing.assert_array_equal(student.classes_, ["ant", "bee", "cat"][:n_classes])
    proba = student.predict_proba(X)
    np.testing.assert_allclose(proba, softmax(raw_scores(student, X), axis=1), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), student.predict(X))
    assert clf.predict(X).dtype.kind == "U"
    assert (clf.predict(X) == teacher.predict(X)).mean() > 0.9


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("kind", KINDS)
def test_one_hot_soft_labels_give_the_librarys_own_model(kind, n_classes):
    # Hard labels through the soft objective: the same gradients, hessians and start as the library's
    # own objective, so the same model (float32 histograms / XGBoost's float32 margins aside).
    X, y = problem(n_classes)
    template = booster(kind)
    own = clone(template).fit(X, y).predict_proba(X)
    if kind == "hist":
        soft = fit_soft_hist_boosting(template, X, np.eye(n_classes)[y], np.arange(n_classes)).predict_proba(X)
    else:
        soft = BoostingStudent(template).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(soft, own, atol={"lightgbm": 1e-10, "xgboost": 2e-6, "hist": 1e-6}[kind])


@pytest.mark.parametrize("n_classes", [2, 4])
def test_gradient_and_hessian_match_finite_differences(n_classes):
    rng = np.random.default_rng(0)
    n = 5
    q = rng.dirichlet(np.ones(n_classes), size=n)
    raw = rng.normal(size=(n, n_classes)) if n_classes > 2 else rng.normal(size=n)
    targets = q if n_classes > 2 else q[:, 1]

    def loss(scores):  # per-row soft cross-entropy
        if scores.ndim == 1:
            scores = np.column_stack([np.zeros(n), scores])
        return -(q * log_softmax(scores, axis=1)).sum(axis=1)

    weight = rng.uniform(0.5, 2.0, size=n)
    gradient, hessian = soft_cross_entropy_gradients(raw, targets, weight)
    step = 1e-5
    columns = range(n_classes) if n_classes > 2 else [None]
    for k in columns:
        shift = np.zeros_like(raw)
        if k is None:
            shift[:] = step
        else:
            shift[:, k] = step
        numeric_gradient = (loss(raw + shift) - loss(raw - shift)) / (2 * step)
        numeric_hessian = (loss(raw + shift) - 2 * loss(raw) + loss(raw - shift)) / step**2
        got_gradient = gradient if k is None else gradient[:, k]
        got_hessian = hessian if k is None else hessian[:, k]
        np.testing.assert_allclose(got_gradient, weight * numeric_gradient, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(got_hessian, weight * numeric_hessian, rtol=1e-4, atol=1e-6)


def test_class_weights_folded_into_soft_labels_give_the_weighted_gradients():
    rng = np.random.default_rng(1)
    q, raw = rng.dirichlet(np.ones(3), size=6), rng.normal(size=(6, 3))
    multipliers, weight = np.array([1.0, 4.0, 0.5]), rng.uniform(0.5, 2.0, size=6)
    folded, row_weight = fold_class_weights(multipliers, q, weight)
    gradient, hessian = soft_cross_entropy_gradients(raw, folded, row_weight)
    p = softmax(raw, axis=1)
    mass = (q * multipliers).sum(axis=1)  # d/ds_k of sum_c cw_c q_c (-log p_c) = m p_k - cw_k q_k
    np.testing.assert_allclose(gradient, weight[:, None] * (mass[:, None] * p - multipliers * q), rtol=1e-12)
    np.testing.assert_allclose(hessian, (weight * mass)[:, None] * p * (1 - p), rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_zero_weights_are_dropped_rows(kind):
    # Integer features with few values: the bins are those values with or without the dropped rows.
    rng = np.random.default_rng(0)
    X = rng.integers(0, 6, size=(300, 3)).astype(float)
    q = softmax(X @ rng.normal(size=(3, 3)), axis=1)
    weight = np.where(np.arange(300) % 3 == 0, 0.0, 1.0)
    kept = weight > 0
    params = {"hist": {"min_samples_leaf": 1}, "lightgbm": {"min_child_samples": 1}}.get(kind, {})
    template = booster(kind, **params)
    if kind == "hist":
        weighted = fit_soft_hist_boosting(template, X, q, np.arange(3), weight)
        dropped = fit_soft_hist_boosting(template, X[kept], q[kept], np.arange(3))
    else:
        weighted = BoostingStudent(template).fit_soft(X, q, np.arange(3), weight)
        dropped = BoostingStudent(template).fit_soft(X[kept], q[kept], np.arange(3))
    np.testing.assert_allclose(weighted.predict_proba(X), dropped.predict_proba(X), rtol=1e-5, atol=1e-7)
    unweighted = BoostingStudent(template) if kind != "hist" else None
    if unweighted is not None:  # and the weights do something
        everything = unweighted.fit_soft(X, q, np.arange(3)).predict_proba(X)
        assert np.abs(everything - weighted.predict_proba(X)).max() > 1e-3


@pytest.mark.parametrize("kind", KINDS)
def test_a_class_the_teacher_rules_out_keeps_a_column_of_tiny_probability(kind):
    X, y = problem(3, labels=["ant", "bee", "cat"])

    class NeverBee:
        classes_ = np.array(["ant", "bee", "cat"])

        def predict_proba(self, X):
            p = np.zeros((len(X), 3))
            p[:, 0] = 1 / (1 + np.exp(-X[:, 0]))
            p[:, 2] = 1 - p[:, 0]
            return p

    clf = DistilledClassifier(NeverBee(), booster(kind), alpha=0.0).fit(X, y)
    np.testing.assert_array_equal(clf.student_classes_, ["ant", "bee", "cat"])
    proba = clf.predict_proba(X)
    assert proba[:, 1].max() < 1e-6 and np.isfinite(clf.predict_log_proba(X)).all()
    assert (clf.predict(X) == np.where(X[:, 0] > 0, "ant", "cat")).mean() > 0.9


@pytest.mark.parametrize("kind", KINDS)
def test_pickle_round_trip_predicts_identically(kind):
    X, y = problem(3, labels=["ant", "bee", "cat"])
    clf = DistilledClassifier(LogisticRegression(max_iter=500), booster(kind), keep_teacher=False).fit(X, y)
    blob = pickle.dumps(clf)
    assert len(blob) < 200_000  # the soft labels are not kept with the model
    np.testing.assert_array_equal(pickle.loads(blob).predict_proba(X), clf.predict_proba(X))
    if kind == "hist":
        assert clf.student_.loss == "log_loss" and type(clf.student_._loss).__module__.startswith("sklearn")


# ---- parameters ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["lightgbm", "xgboost"])
def test_the_users_parameters_reach_the_booster(kind):
    X, y = problem(3)
    few = BoostingStudent(booster(kind, n_estimators=3)).fit(X, y)
    many = BoostingStudent(booster(kind, n_estimators=40)).fit(X, y)
    rounds = [model.booster_.num_trees() if kind == "lightgbm" else model.booster_.num_boosted_rounds()
              for model in (few, many)]
    assert rounds == ([3 * 3, 40 * 3] if kind == "lightgbm" else [3, 40])
    assert few.score(X, y) < many.score(X, y)


def test_lightgbm_class_weight_is_folded_into_the_soft_labels():
    X, y = problem(3, labels=["ant", "bee", "cat"])
    teacher = LogisticRegression(max_iter=500).fit(X, y)
    plain = DistilledClassifier(teacher, booster("lightgbm"), alpha=0.0).fit(X, y)
    weighted = DistilledClassifier(teacher, booster("lightgbm", class_weight={"bee": 20.0}), alpha=0.0).fit(X, y)
    assert weighted.route_ == "boosting"
    assert (weighted.predict(X) == "bee").sum() > (plain.predict(X) == "bee").sum()


def test_hist_gradient_boosting_falls_back_outside_the_verified_versions(monkeypatch):
    monkeypatch.setattr(_soft_hist_boosting, "_VERIFIED_SKLEARN", ((1, 0), (1, 1)))
    assert as_student(booster("hist")).route == "sample_weight"
    with pytest.raises(ValueError, match="outside the versions .* whose private loss API"):
        as_student(booster("hist"), route="boosting")


# ---- bad input, refused before the teacher runs ---------------------------------------------------------------


def _soft_objective_of_my_own(y_true, y_pred):
    return y_pred - y_true, np.ones_like(y_pred)


REFUSED = [
    ("lightgbm", {"objective": _soft_objective_of_my_own}, "objective is a function of your own"),
    ("xgboost", {"objective": _soft_objective_of_my_own}, "objective is a function of your own"),
    ("xgboost", {"obj": _soft_objective_of_my_own}, "obj is a function of your own"),
    ("lightgbm", {"early_stopping_round": 5}, "early stopping would validate .*early_stopping_round=None"),
    ("xgboost", {"early_stopping_rounds": 5}, "early stopping would validate .*early_stopping_rounds=None"),
    ("hist", {"early_stopping": True}, "early stopping would validate .*early_stopping=False"),
]


@pytest.mark.parametrize("route", ["auto", "boosting", "sample_weight"])
@pytest.mark.parametrize(("kind", "params", "message"), REFUSED)
def test_user_objectives_and_early_stopping_are_refused_before_the_teacher_runs(kind, params, message, route):
    X, y = problem(3)
    counting = CountingModule(make_teacher_module())
    with pytest.raises(ValueError, match=message):
        DistilledClassifier(counting, booster(kind, **params), route=route).fit(X.astype(np.float32), y)
    assert counting.rows_scored == 0


@pytest.mark.parametrize(
    ("kind", "params"),
    [("lightgbm", {"objective": "multiclassova"}), ("xgboost", {"scale_pos_weight": 3.0})],
)
def test_settings_only_the_librarys_objectives_honour_go_by_sample_weight(kind, params):
    template = booster(kind, **params)
    assert as_student(template).route == "sample_weight"
    with pytest.raises(ValueError, match=f"route='boosting' cannot train the student .*{list(params)[0]}"):
        as_student(template, route="boosting")


# ---- fidelity ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_distilled_booster_agrees_with_its_teacher_at_least_as_the_hard_label_booster(kind):
    # A forest teacher on noisy labels (10% flipped): its decisions are not the labels, and a booster
    # of the same size learns them better from its soft labels (T=4, the default) than from y. Measured
    # over seeds 0-3: +0.002 to +0.050 held-out agreement, every library.
    from sklearn.ensemble import RandomForestClassifier

    gains = []
    for seed in range(3):
        X, y = make_classification(
            n_samples=1500, n_features=10, n_informative=6, n_classes=4, flip_y=0.1, random_state=seed
        )
        X_train, y_train, X_test = X[:1000], y[:1000], X[1000:]
        teacher = RandomForestClassifier(200, min_samples_leaf=3, random_state=seed, n_jobs=1).fit(X_train, y_train)
        teacher_says = teacher.predict(X_test)
        hard = clone(booster(kind)).fit(X_train, y_train)
        distilled = DistilledClassifier(teacher, booster(kind), T=4.0, alpha=0.1).fit(X_train, y_train)
        assert distilled.route_ == "boosting"
        gain = (distilled.predict(X_test) == teacher_says).mean() - (hard.predict(X_test) == teacher_says).mean()
        assert gain > -0.02, f"seed {seed}: the distilled booster agrees {gain:+.3f} less with its teacher"
        gains.append(gain)
    assert np.mean(gains) > 0.0


@pytest.mark.parametrize("kind", KINDS)
def test_skops_round_trip_predicts_identically(kind):
    sio = pytest.importorskip("skops.io")
    X, y = problem(3)
    clf = DistilledClassifier(LogisticRegression(max_iter=500), booster(kind), keep_teacher=False).fit(X, y)
    blob = sio.dumps(clf)
    loaded = sio.loads(blob, trusted=sio.get_untrusted_types(data=blob))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_fewer_rows_than_classes_falls_back_to_expanded_rows():
    """HistGradientBoosting's soft loss needs a stand-in label per class; with 2 rows and 3 classes the
    route fits the expanded rows instead, and the student still scores every class."""
    X, y = load_iris(return_X_y=True)
    teacher = LogisticRegression(max_iter=500).fit(X, y)
    rows = [0, 60]
    model = DistilledClassifier(teacher, HistGradientBoostingClassifier(max_iter=5, min_samples_leaf=1), T=4.0)
    model.fit(X[rows], y[rows])
    assert model.route_ == "boosting"
    np.testing.assert_array_equal(model.student_.classes_, [0, 1, 2])
    proba = model.predict_proba(X[:3])
    assert proba.shape == (3, 3) and (proba[:, 2] > 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
