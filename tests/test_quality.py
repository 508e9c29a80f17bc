"""Does distillation work? Measured over several seeds, on held-out data, with a margin."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skdistill import DistilledClassifier, MLPStudent

SEEDS = [0, 1, 2]


def one_seed(seed):
    """A teacher trained on 2,000 rows; a small student given 200 labelled rows, two ways."""
    X, y = make_classification(
        n_samples=3000, n_features=20, n_informative=12, n_redundant=0, n_classes=5, random_state=seed
    )
    X = StandardScaler().fit_transform(X).astype(np.float32)
    X_teacher, X_rest, y_teacher, y_rest = train_test_split(X, y, train_size=2000, random_state=seed)
    X_student, X_test, y_student, y_test = train_test_split(X_rest, y_rest, train_size=200, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        teacher = MLPStudent((128, 128), max_iter=30, random_state=seed).fit(X_teacher, y_teacher)

        def student():
            return MLPStudent((32,), max_iter=150, learning_rate_init=0.01, random_state=seed)

        distilled = DistilledClassifier(teacher.module_, student(), T=4.0, alpha=0.1).fit(X_student, y_student)
        hard = student().fit(X_student, y_student)
    teacher_labels = teacher.predict(X_test)
    return {
        "distilled_accuracy": distilled.score(X_test, y_test),
        "hard_accuracy": hard.score(X_test, y_test),
        "distilled_fidelity": np.mean(distilled.predict(X_test) == teacher_labels),
        "hard_fidelity": np.mean(hard.predict(X_test) == teacher_labels),
    }


@pytest.mark.slow
def test_distilled_student_beats_the_same_student_trained_on_labels():
    # Measured on 5 seeds when this test was written: accuracy 0.616 vs 0.508 and fidelity to the
    # teacher 0.677 vs 0.535 (means); every seed won by at least 0.06 on both.
    results = [one_seed(seed) for seed in SEEDS]
    accuracy_gain = np.array([r["distilled_accuracy"] - r["hard_accuracy"] for r in results])
    fidelity_gain = np.array([r["distilled_fidelity"] - r["hard_fidelity"] for r in results])
    assert (accuracy_gain > 0.02).all(), results
    assert accuracy_gain.mean() > 0.05, results
    assert (fidelity_gain > 0.02).all(), results
    assert fidelity_gain.mean() > 0.05, results


@pytest.mark.slow
def test_a_tree_distilled_with_augmentation_agrees_with_its_teacher_more():
    # Measured on 6 seeds when this test was written (300 training rows, depth 6, 20x MUNGE rows):
    # held-out agreement with the teacher 0.826 vs 0.760 for the same tree on labels; every seed won
    # by 0.046 to 0.080.
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    gains = []
    for seed in range(4):
        X, y = make_classification(
            n_samples=1600, n_features=10, n_informative=6, n_redundant=0, n_classes=3, random_state=seed
        )
        X_train, X_test, y_train, _ = train_test_split(X, y, train_size=300, random_state=seed)
        teacher = RandomForestClassifier(n_estimators=100, random_state=seed).fit(X_train, y_train)
        distilled = DistilledClassifier(
            teacher,
            DecisionTreeClassifier(max_depth=6, random_state=seed),
            T=1.0,
            alpha=0.0,
            augment="munge",
            augment_size=20.0,
            random_state=seed,
        ).fit(X_train, y_train)
        on_labels = DecisionTreeClassifier(max_depth=6, random_state=seed).fit(X_train, y_train)
        teacher_labels = teacher.predict(X_test)
        gains.append(
            np.mean(distilled.predict(X_test) == teacher_labels) - np.mean(on_labels.predict(X_test) == teacher_labels)
        )
    assert min(gains) > 0.02, gains
    assert np.mean(gains) > 0.04, gains
