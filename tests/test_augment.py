"""Transfer sets: X_unlabeled, augmentation inside fit, reproducibility, and their errors."""

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils._param_validation import InvalidParameterError

from conftest import CountingModule
from skdistill import DistilledClassifier, DistilledRegressor, MLPStudent
from skdistill.augment import GaussianNoise, Mixup, Munge

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def X_small():
    return np.random.RandomState(0).normal(size=(50, 4)) * np.array([1.0, 10.0, 0.1, 5.0])


def test_noise_is_scaled_per_feature(X_small):
    rows = GaussianNoise(scale=0.1).sample(X_small, 20_000, np.random.RandomState(0))
    source = X_small[np.random.RandomState(0).randint(50, size=20_000)]
    np.testing.assert_allclose((rows - source).std(axis=0), 0.1 * X_small.std(axis=0), rtol=0.05)


def test_munge_stays_between_neighbours(X_small):
    unchanged = Munge(p=0.0).sample(X_small, 30, np.random.RandomState(0))
    assert all((row == X_small).all(axis=1).any() for row in unchanged)  # p=0: training rows as they are
    rows = Munge(p=1.0, s=1e9).sample(X_small, 30, np.random.RandomState(0))  # p=1, no jitter: neighbours
    assert all((np.abs(row - X_small) < 1e-6).all(axis=1).any() for row in rows)


def test_mixup_rows_are_convex_combinations(X_small):
    rows = Mixup(alpha=1.0).sample(X_small, 200, np.random.RandomState(0))
    assert (rows >= X_small.min(axis=0) - 1e-12).all() and (rows <= X_small.max(axis=0) + 1e-12).all()


def test_augmenters_are_reproducible(X_small):
    for augmenter in (GaussianNoise(), Munge(), Mixup()):
        first = augmenter.sample(X_small, 10, np.random.RandomState(3))
        np.testing.assert_array_equal(first, augmenter.sample(X_small, 10, np.random.RandomState(3)))


def test_the_teacher_labels_each_synthetic_row_once(data, teacher_module):
    X, y = data
    counting = CountingModule(teacher_module)
    DistilledClassifier(counting, MLPStudent(max_iter=2, random_state=0), augment="noise", augment_size=40).fit(X, y)
    assert counting.rows_scored == len(X) + 40
    counting.batch_sizes.clear()
    DistilledClassifier(
        counting, MLPStudent(max_iter=2, random_state=0), augment="mixup", augment_size=0.5, memory=False
    ).fit(X, y)
    assert counting.rows_scored == len(X) + 75


def test_augmentation_sees_only_the_training_fold(data):
    X, y = data
    seen = []

    def recording_sampler(X_train, n_samples, random_state):
        seen.append(X_train.copy())
        return X_train[random_state.randint(len(X_train), size=n_samples)]

    clf = DistilledClassifier(LogisticRegression(), DecisionTreeClassifier(max_depth=3), augment=recording_sampler)
    cross_val_score(clf, X, y, cv=3)
    assert len(seen) == 3
    for fold_rows in seen:
        assert len(fold_rows) == 100  # two thirds of 150: the held-out third never reaches the sampler


def test_augmentation_follows_random_state(data):
    X, y = data

    def fit(seed):
        return DistilledClassifier(
            LogisticRegression(),
            DecisionTreeClassifier(max_depth=4, random_state=0),
            augment="munge",
            random_state=seed,
        ).fit(X, y)

    np.testing.assert_array_equal(fit(0).predict_proba(X), fit(0).predict_proba(X))
    assert not np.array_equal(fit(0).predict_proba(X), fit(1).predict_proba(X))


def test_unlabelled_rows_teach_even_with_alpha_one(data, teacher_module):
    X, y = data
    extra = np.random.RandomState(0).normal(size=(100, 6)).astype(np.float32)
    counting = CountingModule(teacher_module)
    plain = DistilledClassifier(counting, MLPStudent(max_iter=30, random_state=0), alpha=1.0).fit(X, y)
    with_extra = DistilledClassifier(counting, MLPStudent(max_iter=30, random_state=0), alpha=1.0).fit(
        X, y, X_unlabeled=extra
    )
    assert counting.rows_scored == 2 * len(X) + 100
    assert not np.allclose(plain.predict_proba(X), with_extra.predict_proba(X), atol=1e-3)


def test_an_unfitted_teacher_is_fitted_on_labelled_rows_only(data):
    from sklearn.dummy import DummyClassifier

    X, y = data
    extra = np.random.RandomState(0).normal(size=(1000, 6))
    clf = DistilledClassifier(DummyClassifier(strategy="prior"), DecisionTreeClassifier(max_depth=2)).fit(
        X, y, X_unlabeled=extra
    )
    np.testing.assert_allclose(clf.teacher_.estimator_.class_prior_, np.bincount(y) / len(y))


def test_transfer_set_errors(data, teacher_module):
    X, y = data
    clf = DistilledClassifier(teacher_module, MLPStudent(max_iter=2))
    with pytest.raises(ValueError, match="X_unlabeled has 4 features, but X has 6"):
        clf.fit(X, y, X_unlabeled=X[:, :4])
    with pytest.raises(InvalidParameterError, match="'augment' parameter"):
        clf.set_params(augment="rotate").fit(X, y)
    with pytest.raises(ValueError, match=r"augment must return rows of shape \(n_samples, 6\); got shape \(3, 2\)"):
        clf.set_params(augment=lambda X, n, rng: np.zeros((3, 2))).fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_sampler_returning_values_that_are_not_finite_is_told_so(data, teacher_module, bad):
    # The error said "finite rows of shape (n_samples, 6); got shape (10, 6)": the shape was right.
    X, y = data

    def sampler(X, n_samples, random_state):
        rows = X[:n_samples].copy()
        rows[[1, 4], 2] = bad
        return rows

    clf = DistilledClassifier(teacher_module, MLPStudent(max_iter=2), augment=sampler, augment_size=10)
    with pytest.raises(ValueError, match=r"augment must return finite rows; 2 of the 10 rows it returned hold NaN or "):
        clf.fit(X, y)


def test_dataframe_transfer_set_keeps_columns(data):
    import pandas as pd

    X, y = data
    frame = pd.DataFrame(X, columns=list("abcdef"))
    clf = DistilledClassifier(LogisticRegression().fit(frame, y), DecisionTreeClassifier(max_depth=2))
    clf.fit(frame, y, X_unlabeled=frame.iloc[:10])
    np.testing.assert_array_equal(clf.student_.feature_names_in_, list("abcdef"))
    with pytest.raises(ValueError, match="same columns as X"):
        clf.fit(frame, y, X_unlabeled=frame[list("bacdef")])


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_alpha_one_learns_labels_on_labelled_rows_and_the_teacher_on_transfer_rows(task):
    # What the alpha docstrings and the user guide say: alpha weighs the labelled rows only.
    from sklearn.datasets import make_classification, make_regression

    if task == "classification":
        X, y = make_classification(n_samples=300, n_features=5, random_state=0)
        teacher, student, distiller = RandomForestClassifier(10, random_state=0), DecisionTreeClassifier, DistilledClassifier
    else:
        X, y = make_regression(n_samples=300, n_features=5, random_state=0)
        teacher, student, distiller = RandomForestRegressor(10, random_state=0), DecisionTreeRegressor, DistilledRegressor
    teacher.fit(X, y)
    X_unlabeled = X[:100] + 1.0
    plain = student(random_state=0).fit(X, y)
    alone = distiller(teacher, student(random_state=0), alpha=1.0).fit(X, y)
    np.testing.assert_array_equal(alone.predict(X_unlabeled), plain.predict(X_unlabeled))
    # A fully grown tree reproduces what each of its rows learnt: the teacher, on the transfer rows.
    transfer = distiller(teacher, student(random_state=0), alpha=1.0).fit(X, y, X_unlabeled=X_unlabeled)
    np.testing.assert_array_equal(transfer.predict(X_unlabeled), teacher.predict(X_unlabeled))
    np.testing.assert_array_equal(transfer.predict(X), plain.predict(X))
    assert not np.array_equal(plain.predict(X_unlabeled), teacher.predict(X_unlabeled))
