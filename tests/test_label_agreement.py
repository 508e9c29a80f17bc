"""A teacher and a y that name the classes (or measure the target) differently are pointed out, not distilled silently."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import HistGradientBoostingClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression, Ridge

from skdistill import DistilledClassifier, DistilledRegressor, TorchTeacher

pd = pytest.importorskip("pandas")

PERMUTED = "the teacher and y seem to name the classes differently"
OTHER_UNITS = "the teacher and y seem to be in different units"


def linear_problem(n_classes=3, seed=0):
    """Rows whose label is the argmax of a fixed linear map, and a torch module computing that map."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 5)).astype(np.float32)
    weights = rng.normal(size=(5, n_classes)).astype(np.float32)
    module = torch.nn.Linear(5, n_classes, bias=False)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(weights.T))
    return X, np.argmax(X @ weights, axis=1), module


def fit_recording(model, *args):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(*args)
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def test_a_network_trained_on_category_codes_is_pointed_out_and_naming_its_columns_fixes_it():
    X, codes, module = linear_problem()
    categories = ["low", "medium", "high"]  # not sorted: the module's columns are in this order
    y = pd.Series(pd.Categorical.from_codes(codes, categories=categories, ordered=True))
    with pytest.warns(UserWarning, match=PERMUTED) as record:
        DistilledClassifier(module, LogisticRegression(), alpha=0.0).fit(X, y)
    assert "classes=list(y.cat.categories)" in str(record[0].message)

    named = DistilledClassifier(TorchTeacher(module, classes=categories), LogisticRegression(), alpha=0.0)
    assert not [m for m in fit_recording(named, X, y) if PERMUTED in m]
    assert np.mean(named.predict(X) == y.to_numpy()) > 0.9


def test_a_voting_classifier_relabelling_y_for_a_trained_teacher_is_pointed_out():
    X, y = make_classification(n_samples=400, n_features=6, n_informative=4, n_classes=4, random_state=0)
    teacher = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, y)
    rows = y > 0  # labels 1..3: the VotingClassifier passes its members 0..2
    voting = VotingClassifier([("distilled", DistilledClassifier(teacher, LogisticRegression()))], voting="soft")
    messages = fit_recording(voting, X[rows], y[rows])
    assert [m for m in messages if PERMUTED in m and "VotingClassifier" in m and "TorchTeacher" not in m]


def test_a_voting_classifier_with_string_labels_names_the_reason_in_its_error():
    X, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0)
    labels = np.array(["u", "v", "w"])[y]
    teacher = LogisticRegression().fit(X, labels)
    voting = VotingClassifier([("distilled", DistilledClassifier(teacher, LogisticRegression()))], voting="soft")
    with pytest.raises(ValueError, match=r"does not score: \[0, 1, 2\].*VotingClassifier.*encoded"):
        voting.fit(X, labels)


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_a_teacher_of_these_labels_weak_or_strong_is_not_pointed_out(n_classes):
    for flip_y in (0.0, 0.3, 0.6):  # 0.6: labels mostly noise, so the teacher is right on few training rows
        X, y = make_classification(
            n_samples=300, n_features=6, n_informative=4, n_classes=n_classes, flip_y=flip_y, random_state=1
        )
        teacher = LogisticRegression().fit(X, y)
        assert not [m for m in fit_recording(DistilledClassifier(teacher, LogisticRegression()), X, y) if PERMUTED in m]


def test_a_network_with_swapped_binary_columns_is_pointed_out():
    X, y, module = linear_problem(n_classes=2)
    assert fit_recording(DistilledClassifier(module, LogisticRegression()), X, y) == []
    assert [m for m in fit_recording(DistilledClassifier(module, LogisticRegression()), X, 1 - y) if PERMUTED in m]


def test_a_transformed_target_for_a_trained_regression_teacher_is_pointed_out():
    X, y = make_regression(n_samples=300, n_features=5, noise=5.0, random_state=0)
    y = y - y.min() + 1.0  # positive, for the square root
    teacher = Ridge().fit(X, y)
    assert not [m for m in fit_recording(DistilledRegressor(teacher, Ridge()), X, y) if OTHER_UNITS in m]
    wrapped = TransformedTargetRegressor(DistilledRegressor(teacher, Ridge()), func=np.sqrt, inverse_func=np.square)
    messages = [m for m in fit_recording(wrapped, X, y) if OTHER_UNITS in m]
    assert messages and "TransformedTargetRegressor" in messages[0]


def test_out_of_fold_outputs_are_not_pointed_out():
    # Leave-one-out with a heavily regularised teacher: holding out a row of one class leaves the other
    # the majority, so the out-of-fold argmax points away from y on every row, as a permutation would.
    from sklearn.model_selection import LeaveOneOut
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), np.repeat([0, 1], 30)
    classifier = DistilledClassifier(LogisticRegression(C=1e-3), LogisticRegression(), teacher_cv=LeaveOneOut(), alpha=0.5)
    assert not [m for m in fit_recording(classifier, X, y) if PERMUTED in m]
    # A fully grown tree's out-of-fold predictions of a noisy target: R² about -1, in y's units.
    X = rng.normal(size=(300, 5))
    y = 0.3 * X[:, 0] + rng.normal(size=300)
    for seed in range(5):
        regressor = DistilledRegressor(DecisionTreeRegressor(random_state=seed), Ridge(), teacher_cv=5, alpha=0.5)
        assert not [m for m in fit_recording(regressor, X, y) if OTHER_UNITS in m]


def test_few_rows_per_class_are_not_pointed_out():
    # One labelled row per class: the best relabelling of a correct but weak teacher fits noise.
    rng = np.random.default_rng(0)
    n_classes = 30
    centres = rng.normal(size=(n_classes, 8))
    X_train = centres[np.repeat(np.arange(n_classes), 20)] + 2.0 * rng.normal(size=(20 * n_classes, 8))
    teacher = LogisticRegression(max_iter=2000).fit(X_train, np.repeat(np.arange(n_classes), 20))
    for draw in range(5):
        X = centres + 2.0 * rng.normal(size=centres.shape)
        model = DistilledClassifier(teacher, LogisticRegression(max_iter=2000))
        assert not [m for m in fit_recording(model, X, np.arange(n_classes)) if PERMUTED in m]
