"""Displays: the numbers drawn are the numbers computed (read back from the artists)."""

import sys

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from skdistill import DistilledClassifier  # noqa: E402
from skdistill.display import FidelityDisplay, GridSearchHeatmapDisplay, ReliabilityDisplay  # noqa: E402


@pytest.fixture
def fitted(data):
    X, y = data
    clf = DistilledClassifier(LogisticRegression(), DecisionTreeClassifier(max_depth=2, random_state=0)).fit(
        X[:100], y[:100]
    )
    return clf, X[100:], y[100:]


def test_fidelity_display_draws_the_agreement_matrix(fitted):
    clf, X_test, _ = fitted
    display = FidelityDisplay.from_estimator(clf, X_test)
    teacher = clf.classes_[clf.teacher_proba(X_test).argmax(axis=1)]
    counts = confusion_matrix(teacher, clf.predict(X_test), labels=clf.classes_).astype(float)
    expected = counts / counts.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(display.im_.get_array(), expected)
    assert display.text_[0, 0].get_text() == f"{expected[0, 0]:.2f}"
    assert display.ax_.get_title() == f"agreement {clf.fidelity(X_test):.3f}"
    assert display.figure_ is display.ax_.figure


def test_reliability_display_bins_confidence_against_accuracy():
    y = np.array([0, 0, 1, 1])
    teacher = np.array([[0.95, 0.05], [0.55, 0.45], [0.35, 0.65], [0.92, 0.08]])
    display = ReliabilityDisplay.from_predictions(y, {"teacher": teacher, "student": teacher[::-1]}, n_bins=2)
    confidence, accuracy = display.lines_["teacher"].get_data()
    # bin [0.5, 1): all four rows; mean confidence 0.7675; rows 0, 1, 2 predicted correctly
    np.testing.assert_allclose(confidence, [0.7675])
    np.testing.assert_allclose(accuracy, [0.75])
    assert [text.get_text() for text in display.ax_.get_legend().get_texts()] == [
        "perfectly calibrated",
        "teacher",
        "student",
    ]


def test_reliability_display_from_estimator_uses_classes(fitted):
    clf, X_test, y_test = fitted
    display = ReliabilityDisplay.from_estimator(clf, X_test, y_test, n_bins=5)
    confidence, accuracy = display.lines_["student"].get_data()
    top = clf.predict_proba(X_test).max(axis=1)
    rows_per_bin = np.bincount(np.minimum((top * 5).astype(int), 4), minlength=5)
    assert len(confidence) == np.count_nonzero(rows_per_bin)
    # per-bin accuracies, weighted by the rows in each bin, give back the overall accuracy
    assert np.average(accuracy, weights=rows_per_bin[rows_per_bin > 0]) == pytest.approx(clf.score(X_test, y_test))


def test_heatmap_from_a_pipeline_search(data):
    X, y = data
    search = GridSearchCV(
        make_pipeline(StandardScaler(), DistilledClassifier(LogisticRegression(), DecisionTreeClassifier(max_depth=2))),
        {"distilledclassifier__T": [1.0, 4.0], "distilledclassifier__alpha": [0.0, 0.5, 1.0]},
        cv=3,
    ).fit(X, y)
    display = GridSearchHeatmapDisplay.from_cv_results(search.cv_results_)
    assert display.scores.shape == (3, 2)
    for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
        i = [0.0, 0.5, 1.0].index(params["distilledclassifier__alpha"])
        j = [1.0, 4.0].index(params["distilledclassifier__T"])
        assert display.im_.get_array()[i, j] == pytest.approx(score)
    assert display.ax_.get_xlabel() == "distilledclassifier__T"
    with pytest.raises(ValueError, match="'gamma' must match exactly one searched parameter"):
        GridSearchHeatmapDisplay.from_cv_results(search.cv_results_, x="gamma")


def test_a_clear_error_without_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'skdistill\[plot\]'"):
        FidelityDisplay.from_predictions([0, 1], [0, 1])
