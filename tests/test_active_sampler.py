"""Active transfer sets (``augment="active"``, ``ActiveSampler``): budget, rounds, students, folds, errors, quality."""

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_digits, make_regression
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score, train_test_split
from sklearn.compose import make_column_transformer
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from conftest import CountingModule
from skdistill import DistilledClassifier, DistilledRegressor, MLPStudent
from skdistill._active_rounds import _select, disagreement
from skdistill.augment import ActiveSampler, as_augmenter
from skdistill.metrics import kl_divergence, total_variation

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_active_is_a_named_augmenter():
    assert isinstance(as_augmenter("active"), ActiveSampler)
    assert as_augmenter("active").get_params() == ActiveSampler().get_params()
    sampler = ActiveSampler(n_rounds=2)
    assert as_augmenter(sampler) is not sampler  # cloned, as every augmenter


def test_the_budget_is_split_over_the_rounds():
    assert ActiveSampler(n_rounds=4).round_sizes(10) == [3, 3, 2, 2]
    assert sum(ActiveSampler(n_rounds=3).round_sizes(301)) == 301


def test_the_teacher_is_asked_about_augment_size_synthetic_rows_in_n_rounds(data, teacher_module):
    X, y = data
    counting = CountingModule(teacher_module)
    DistilledClassifier(
        counting, DecisionTreeClassifier(max_depth=3), augment=ActiveSampler(n_rounds=3), augment_size=61,
        memory=False, random_state=0,
    ).fit(X, y)
    assert counting.rows_scored == len(X) + 61
    assert counting.batch_sizes[1:] == [21, 20, 20]  # one query per round, after the training rows


def test_unlabelled_rows_are_scored_once_and_kept_in_every_round(data, teacher_module):
    X, y = data
    counting = CountingModule(teacher_module)
    extra = X[:40] + 0.5
    model = DistilledClassifier(
        counting, DecisionTreeClassifier(max_depth=3, random_state=0), augment=ActiveSampler(n_rounds=2),
        augment_size=30, memory=False, random_state=0,
    ).fit(X, y, X_unlabeled=extra)
    assert counting.rows_scored == len(X) + 40 + 30
    assert model.student_.tree_.n_node_samples[0] == len(X) + 40 + 30  # the last fit saw every row


class CountingFits(GaussianNB):
    """GaussianNB that counts its fits (class-wide: the distiller fits clones)."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


def test_the_student_is_fitted_once_more_than_the_rounds(data):
    X, y = data
    CountingFits.fits = 0
    DistilledClassifier(
        LogisticRegression(), CountingFits(), augment=ActiveSampler(n_rounds=3), augment_size=30, random_state=0
    ).fit(X, y)
    assert CountingFits.fits == 4


def test_it_follows_random_state(data):
    X, y = data

    def fit(seed):
        return DistilledClassifier(
            LogisticRegression(), DecisionTreeClassifier(max_depth=4, random_state=0), augment="active",
            augment_size=200, random_state=seed,
        ).fit(X, y)

    np.testing.assert_array_equal(fit(0).predict_proba(X), fit(0).predict_proba(X))
    assert not np.array_equal(fit(0).predict_proba(X), fit(1).predict_proba(X))


@pytest.mark.parametrize(
    "student, route",
    [
        (MLPStudent(hidden_layer_sizes=(16,), max_iter=50, learning_rate_init=0.01, random_state=0), "native"),
        (LogisticRegression(), "logistic"),
        (DecisionTreeClassifier(max_depth=3, random_state=0), "tree"),
        (GaussianNB(), "sample_weight"),
        (DecisionTreeRegressor(max_depth=3, random_state=0), "regression_proba"),
    ],
    ids=["neural", "logistic", "tree", "sample_weight", "regressor"],
)
def test_every_kind_of_student(data, student, route):
    X, y = data
    teacher = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    model = DistilledClassifier(teacher, student, augment="active", augment_size=120, random_state=0).fit(X, y)
    assert model.route_ == route
    assert model.predict_proba(X).shape == (len(X), 3)
    assert model.fidelity(X) > 0.6


def test_the_default_student(data):
    X, y = data
    teacher = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    model = DistilledClassifier(teacher, augment="active", augment_size=40, random_state=0).fit(X, y)
    assert isinstance(model.student_, MLPStudent)
    X_reg, y_reg = make_regression(n_samples=100, n_features=4, random_state=0)
    forest = RandomForestRegressor(n_estimators=10, random_state=0).fit(X_reg, y_reg)
    regressor = DistilledRegressor(forest, augment="active", augment_size=40, random_state=0).fit(X_reg, y_reg)
    assert regressor.predict(X_reg).shape == (100,)


def test_synthetic_rows_keep_the_dtype_of_X(data):
    X, y = data
    assert X.dtype == np.float32
    candidates = ActiveSampler().propose(X, np.ones(len(X)), 30, np.random.RandomState(0))[0]
    assert candidates.dtype == np.float32


def test_a_regressor(data):
    X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    teacher = RandomForestRegressor(n_estimators=30, random_state=0).fit(X, y)
    plain = DistilledRegressor(teacher, DecisionTreeRegressor(max_depth=4, random_state=0)).fit(X, y)
    active = DistilledRegressor(
        teacher, DecisionTreeRegressor(max_depth=4, random_state=0), augment="active", augment_size=400,
        random_state=0,
    ).fit(X, y)
    assert active.predict(X).shape == (200,)
    assert active.fidelity(X) > 0.5
    assert not np.allclose(active.predict(X), plain.predict(X))
    with pytest.raises(ValueError, match="disagreement='kl'.*predict values.*'squared'"):
        DistilledRegressor(teacher, Ridge(), augment=ActiveSampler(disagreement="kl"), augment_size=40).fit(X, y)


class RecordingSampler(ActiveSampler):
    """An ActiveSampler that records the training rows it makes candidates from (class-wide: it is cloned)."""

    seen = []

    def propose(self, X, seed_weight, n_candidates, random_state):
        type(self).seen.append(X.copy())
        return super().propose(X, seed_weight, n_candidates, random_state)


def test_candidates_come_from_the_training_fold_only(data):
    X, y = data
    RecordingSampler.seen = []
    model = DistilledClassifier(
        LogisticRegression(), DecisionTreeClassifier(max_depth=3), augment=RecordingSampler(n_rounds=2),
        augment_size=20, random_state=0,
    )
    folds = list(StratifiedKFold(3).split(X, y))
    cross_val_score(model, X, y, cv=folds)
    assert len(RecordingSampler.seen) == 3 * 2  # 3 folds, 2 rounds each
    for (train, _), first_round, second_round in zip(folds, RecordingSampler.seen[::2], RecordingSampler.seen[1::2]):
        np.testing.assert_array_equal(first_round, X[train])
        np.testing.assert_array_equal(second_round, X[train])


def test_rows_of_weight_zero_are_not_sources(data):
    X, y = data
    RecordingSampler.seen = []
    weight = np.ones(len(X))
    weight[:30] = 0
    DistilledClassifier(
        LogisticRegression(), DecisionTreeClassifier(max_depth=3), augment=RecordingSampler(n_rounds=1),
        augment_size=10, random_state=0,
    ).fit(X, y, sample_weight=weight)
    np.testing.assert_array_equal(RecordingSampler.seen[0], X[30:])


def test_a_dataframe_stays_one(data):
    X, y = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    teacher = RandomForestClassifier(n_estimators=10, random_state=0).fit(frame, y)
    model = DistilledClassifier(teacher, LogisticRegression(), augment="active", augment_size=40, random_state=0)
    model.fit(frame, y)
    assert list(model.student_.feature_names_in_) == list(frame.columns)


def test_unlabelled_rows_given_as_an_array_reach_a_dataframe_teacher_with_its_columns(data):
    X, y = data
    columns = [f"f{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns)
    teacher = make_pipeline(
        make_column_transformer(("passthrough", columns[:4])), RandomForestClassifier(n_estimators=10, random_state=0)
    ).fit(frame, y)
    for augment in ("munge", "active"):  # the column transformer takes column names only from a DataFrame
        DistilledClassifier(teacher, LogisticRegression(), augment=augment, augment_size=40, random_state=0).fit(
            frame, y, X_unlabeled=X[:30]
        )


def test_grid_search_tunes_the_sampler(data):
    X, y = data
    search = GridSearchCV(
        DistilledClassifier(LogisticRegression(), DecisionTreeClassifier(max_depth=3), augment=ActiveSampler(),
                            augment_size=40, random_state=0),
        {"augment__n_rounds": [1, 2], "augment__selection": ["top", "proportional"]},
        cv=2,
    ).fit(X, y)
    assert search.best_estimator_.augment.n_rounds in (1, 2)


# --- The disagreement measures --------------------------------------------------------------------


def test_the_measures_are_the_metrics_row_by_row():
    rng = np.random.RandomState(0)
    teacher, student = rng.dirichlet(np.ones(4), size=20), rng.dirichlet(np.ones(4), size=20)
    assert np.isclose(disagreement("kl", teacher, student).mean(), kl_divergence(teacher, student))
    assert np.isclose(disagreement("tv", teacher, student).mean(), total_variation(teacher, student))
    scale = np.array([1.0, 2.0, 4.0, 0.5])
    np.testing.assert_allclose(disagreement("squared", teacher, student, scale), (((teacher - student) / scale) ** 2).sum(1))
    # A student's hard 0 where the teacher is not gives a large, finite disagreement; equal rows give 0.
    assert np.isfinite(disagreement("kl", np.array([[0.5, 0.5]]), np.array([[1.0, 0.0]]))).all()
    assert disagreement("kl", teacher, teacher).max() < 1e-12


def test_top_takes_the_highest_estimates_and_proportional_favours_them():
    estimated = np.array([0.0, 5.0, 0.1, 3.0, 0.0, 4.0])
    assert sorted(_select("top", estimated, 3, np.random.RandomState(0))) == [1, 3, 5]
    picks = np.concatenate([_select("proportional", estimated, 2, np.random.RandomState(seed)) for seed in range(300)])
    counts = np.bincount(picks, minlength=6)
    assert counts[1] > counts[3] > counts[2] > 0  # every candidate possible, the higher estimates likelier
    assert all(len(set(_select("proportional", estimated, 4, np.random.RandomState(s)))) == 4 for s in range(20))


def test_each_round_draws_pool_size_candidates_per_query(data):
    X, y = data
    captured = []

    class Capturing(ActiveSampler):
        def propose(self, X, seed_weight, n_candidates, random_state):
            captured.append(n_candidates)
            return super().propose(X, seed_weight, n_candidates, random_state)

    teacher = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    model = DistilledClassifier(
        teacher, DecisionTreeClassifier(max_depth=2, random_state=0), T=1.0, alpha=0.0,
        augment=Capturing(n_rounds=2, pool_size=5), augment_size=21, random_state=0,
    ).fit(X, y)
    assert captured == [55, 50]
    assert model.student_.tree_.n_node_samples[0] == len(X) + 21


# --- Bad input --------------------------------------------------------------------------------------


def test_a_budget_below_one_query_per_round_is_refused_before_the_teacher_runs(data, teacher_module):
    X, y = data
    counting = CountingModule(teacher_module)
    model = DistilledClassifier(counting, LogisticRegression(), augment=ActiveSampler(n_rounds=4), augment_size=3)
    with pytest.raises(ValueError, match=r"n_rounds=4.*at least one teacher query per round.*gives 3"):
        model.fit(X, y)
    assert counting.batch_sizes == []
    with pytest.raises(ValueError, match="gives 1 synthetic"):  # a float budget: 0.005 * 150 rows, rounded up to 1
        DistilledClassifier(counting, LogisticRegression(), augment="active", augment_size=0.005).fit(X, y)


class ChangesItsParameter(ClassifierMixin, BaseEstimator):
    """A classifier that sklearn.base.clone refuses: __init__ changes the parameter it is given."""

    def __init__(self, depth=3):
        self.depth = depth + 1

    def fit(self, X, y, sample_weight=None):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1 / len(self.classes_))


def test_a_student_that_cannot_be_refitted_is_refused_before_the_teacher_runs(data, teacher_module):
    X, y = data
    counting = CountingModule(teacher_module)
    with pytest.raises(ValueError, match=r"fits the student 5 times.*ChangesItsParameter cannot be copied"):
        DistilledClassifier(counting, ChangesItsParameter(), augment="active", augment_size=40).fit(X, y)
    assert counting.batch_sizes == []


class FailsOffTheData(LogisticRegression):
    """A teacher that raises on rows outside the box of its training rows (synthetic rows may be)."""

    def fit(self, X, y, sample_weight=None):
        self.low_, self.high_ = X.min(axis=0), X.max(axis=0)
        return super().fit(X, y, sample_weight=sample_weight)

    def predict_proba(self, X):
        X = np.asarray(X)
        if ((X < self.low_) | (X > self.high_)).any():
            raise ValueError("a feature is outside the range the teacher was fitted on")
        return super().predict_proba(X)


def test_a_teacher_that_raises_on_synthetic_rows_names_the_round_and_the_rows(data):
    X, y = data
    teacher = FailsOffTheData().fit(X, y)
    model = DistilledClassifier(
        teacher, DecisionTreeClassifier(max_depth=3), augment=ActiveSampler(n_rounds=2, s=0.05), augment_size=100,
        random_state=0,
    )
    with pytest.raises(RuntimeError, match=r"round 1 of 2: the teacher raised ValueError on \d+ of the round's 50") as info:
        model.fit(X, y)
    rows = re.search(r"\(rows \[([\d, ]+)", str(info.value)).group(1)
    assert rows  # the positions of the failing rows in the round
    assert isinstance(info.value.__cause__, ValueError)
    assert not hasattr(model, "student_")


def test_partial_fit_refuses_an_active_sampler(data):
    X, y = data
    teacher = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    from sklearn.linear_model import SGDClassifier

    model = DistilledClassifier(teacher, SGDClassifier(loss="log_loss"), augment="active")
    with pytest.raises(ValueError, match="refits the student in rounds.*partial_fit"):
        model.partial_fit(X, y, classes=[0, 1, 2])
    assert not hasattr(model, "student_")


def test_invalid_parameters_name_themselves(data):
    X, y = data
    with pytest.raises(ValueError, match="selection"):
        DistilledClassifier(LogisticRegression(), LogisticRegression(), augment=ActiveSampler(selection="best")).fit(X, y)
    with pytest.raises(ValueError, match="n_rounds"):
        DistilledClassifier(LogisticRegression(), LogisticRegression(), augment=ActiveSampler(n_rounds=0)).fit(X, y)


# --- Quality ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_active_beats_munge_for_a_shallow_tree_on_digits():
    """Held-out fidelity of a depth-3 tree, same number of teacher queries, over 5 splits (see
    benchmarks/bench_active_transfer.py for the other data sets and students)."""
    X, y = load_digits(return_X_y=True)
    differences = []
    for seed in range(5):
        X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.5, random_state=seed, stratify=y)
        teacher = RandomForestClassifier(n_estimators=100, random_state=seed).fit(X_train, y_train)
        fidelity = {}
        for augment in ("munge", "active"):
            model = DistilledClassifier(
                teacher, DecisionTreeClassifier(max_depth=3, random_state=0), T=1.0, alpha=0.0, augment=augment,
                augment_size=2.0, random_state=seed,
            ).fit(X_train, y_train)
            fidelity[augment] = model.fidelity(X_test)
        differences.append(fidelity["active"] - fidelity["munge"])
    assert np.mean(differences) > 0.02, differences
