"""Displays: the numbers drawn are the numbers computed (read back from the artists)."""

import sys

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import PredictionErrorDisplay, confusion_matrix
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from skdistill import DistilledClassifier, DistilledRegressor  # noqa: E402
from skdistill.display import FidelityDisplay, GridSearchHeatmapDisplay, ReliabilityDisplay  # noqa: E402
from skdistill.metrics import fidelity_scorer  # noqa: E402


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


def _drawn(display, cv_results, score_key, x_key, y_key):
    """Check every cell against the best of its candidates in ``cv_results``."""
    best = {}
    for params, score in zip(cv_results["params"], cv_results[score_key]):
        cell = (params[y_key], params[x_key])
        best[cell] = max(best.get(cell, -np.inf), score)
    for (y_value, x_value), score in best.items():
        i, j = display.y_values.tolist().index(y_value), display.x_values.tolist().index(x_value)
        assert display.im_.get_array()[i, j] == pytest.approx(score)


@pytest.fixture
def multi_metric_search(data):
    """The user guide's search: two scores, refit on accuracy."""
    X, y = data
    return GridSearchCV(
        make_pipeline(StandardScaler(), DistilledClassifier(LogisticRegression(), DecisionTreeClassifier(max_depth=2))),
        {"distilledclassifier__T": [1.0, 4.0], "distilledclassifier__alpha": [0.0, 1.0]},
        scoring={"accuracy": "accuracy", "fidelity": fidelity_scorer},
        refit="accuracy",
        cv=3,
    ).fit(X, y)


def test_heatmap_of_a_multi_metric_search_draws_the_refit_score(multi_metric_search):
    search = multi_metric_search
    assert not np.allclose(search.cv_results_["mean_test_accuracy"], search.cv_results_["mean_test_fidelity"])
    display = GridSearchHeatmapDisplay.from_cv_results(search)
    assert display.score_name == "mean_test_accuracy"
    assert display.ax_.get_title() == "mean_test_accuracy"
    _drawn(display, search.cv_results_, "mean_test_accuracy", "distilledclassifier__T", "distilledclassifier__alpha")

    for score in ("fidelity", "mean_test_fidelity"):
        display = GridSearchHeatmapDisplay.from_cv_results(search, score=score)
        assert display.score_name == "mean_test_fidelity"
        _drawn(
            display, search.cv_results_, "mean_test_fidelity", "distilledclassifier__T", "distilledclassifier__alpha"
        )


def test_heatmap_of_several_scores_says_which_it_can_draw(multi_metric_search):
    # cv_results_ alone does not say which score the search refits on
    with pytest.raises(ValueError, match=r"several scores, \['accuracy', 'fidelity'\]; pass score="):
        GridSearchHeatmapDisplay.from_cv_results(multi_metric_search.cv_results_)
    with pytest.raises(ValueError, match=r"score='f1' is not a score of this search; its scores are \['accuracy'"):
        GridSearchHeatmapDisplay.from_cv_results(multi_metric_search, score="f1")


def test_heatmap_says_it_shows_the_best_over_a_third_parameter(data):
    X, y = data
    search = GridSearchCV(
        DistilledClassifier(LogisticRegression(), DecisionTreeClassifier(random_state=0)),
        {"T": [1.0, 4.0], "alpha": [0.0, 1.0], "student__max_depth": [1, 3]},
        cv=3,
    ).fit(X, y)
    display = GridSearchHeatmapDisplay.from_cv_results(search)
    assert display.best_over == ["student__max_depth"]
    assert display.ax_.get_title() == "mean_test_score\nbest over student__max_depth"
    # ParameterGrid varies the last of the sorted names fastest: scores[T, alpha, max_depth]
    scores = np.asarray(search.cv_results_["mean_test_score"]).reshape(2, 2, 2)
    assert not np.array_equal(scores[..., 0], scores[..., 1])  # the depth matters, so the maximum shows
    np.testing.assert_allclose(display.im_.get_array(), scores.max(axis=2).T)


def test_heatmap_of_two_parameters_names_no_others():
    cv_results = {
        "param_T": np.ma.MaskedArray([1, 1, 4, 4], dtype=object),
        "param_alpha": np.ma.MaskedArray([0.0, 0.5, 0.0, 0.5], dtype=object),
        "param_student__C": np.ma.MaskedArray([1.0, 1.0, 1.0, 1.0], dtype=object),  # searched with one value
        "mean_test_score": [0.8, 0.7, 0.9, 0.6],
    }
    display = GridSearchHeatmapDisplay.from_cv_results(cv_results)
    assert display.best_over == []
    assert display.ax_.get_title() == "mean_test_score"


def test_heatmap_of_a_halving_search_shows_each_cell_last_score_and_its_resources():
    # Halving scores survivors again on more samples; the maximum over iterations mixed scores measured
    # on 40 and on 360 samples, without saying so.
    cv_results = {
        "iter": np.array([0, 0, 0, 0, 1, 1, 2]),
        "n_resources": np.array([40, 40, 40, 40, 120, 120, 360]),
        "param_T": np.ma.MaskedArray([1, 1, 4, 4, 1, 4, 4], dtype=object),
        "param_alpha": np.ma.MaskedArray([0.0, 0.5, 0.0, 0.5, 0.0, 0.0, 0.0], dtype=object),
        "mean_test_score": [0.9, 0.7, 0.8, 0.6, 0.5, 0.85, 0.75],
    }
    display = GridSearchHeatmapDisplay.from_cv_results(cv_results)
    # rows alpha (0.0, 0.5), columns T (1, 4): T=1/alpha=0 last scored at 120 samples, T=4/alpha=0 at 360
    np.testing.assert_allclose(display.im_.get_array(), [[0.5, 0.75], [0.7, 0.6]])
    np.testing.assert_array_equal(display.n_resources, [[120, 360], [40, 40]])
    assert sorted(text.get_text() for text in display.ax_.texts) == [
        "0.500\nn=120", "0.600\nn=40", "0.700\nn=40", "0.750\nn=360"
    ]
    assert "last halving iteration" in display.ax_.get_title()


def test_heatmap_of_a_halving_search_takes_the_candidate_that_went_furthest(data):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    X, y = data
    search = HalvingGridSearchCV(
        DistilledClassifier(LogisticRegression(), DecisionTreeClassifier(random_state=0)),
        {"T": [1.0, 4.0], "alpha": [0.0, 1.0], "student__max_depth": [1, 2, 3]},
        cv=3, min_resources=30, factor=2, random_state=0,
    ).fit(X, y)
    display = GridSearchHeatmapDisplay.from_cv_results(search)
    results = search.cv_results_
    for i, alpha in enumerate(display.y_values):
        for j, T in enumerate(display.x_values):
            rows = [k for k, p in enumerate(results["params"]) if p["T"] == T and p["alpha"] == alpha]
            furthest = max(rows, key=lambda k: (results["n_resources"][k], results["mean_test_score"][k]))
            assert display.scores[i, j] == results["mean_test_score"][furthest]
            assert display.n_resources[i, j] == results["n_resources"][furthest]


@pytest.mark.parametrize("display_class", [FidelityDisplay, ReliabilityDisplay])
def test_displays_accept_a_pipeline_ending_in_a_distiller(data, display_class):
    X, y = data
    pipeline = make_pipeline(
        StandardScaler(), DistilledClassifier(LogisticRegression(), DecisionTreeClassifier(max_depth=2, random_state=0))
    ).fit(X[:100] * 10 + 3, y[:100])
    X_test, y_test = X[100:] * 10 + 3, y[100:]
    args = (X_test,) if display_class is FidelityDisplay else (X_test, y_test)
    from_pipeline = display_class.from_estimator(pipeline, *args)

    distiller, X_scaled = pipeline[-1], pipeline[:-1].transform(X_test)
    direct = display_class.from_estimator(distiller, X_scaled, *args[1:])
    if display_class is FidelityDisplay:
        np.testing.assert_array_equal(from_pipeline.matrix, direct.matrix)
        assert from_pipeline.fidelity == fidelity_scorer(pipeline, X_test)
    else:
        for name in ("teacher", "student"):
            np.testing.assert_array_equal(from_pipeline.curves[name][0], direct.curves[name][0])
            np.testing.assert_array_equal(from_pipeline.curves[name][1], direct.curves[name][1])


@pytest.mark.parametrize("display_class", [FidelityDisplay, ReliabilityDisplay])
def test_displays_refuse_a_regressor_and_say_what_to_draw(data, display_class):
    X, y = data
    regressor = DistilledRegressor(Ridge(), DecisionTreeRegressor(max_depth=3), alpha=0.0)
    pipeline = make_pipeline(StandardScaler(), regressor).fit(X[:100], y[:100].astype(float))
    args = (X[100:],) if display_class is FidelityDisplay else (X[100:], y[100:])
    with pytest.raises(ValueError, match=rf"{display_class.__name__} draws .* a DistilledRegressor does not predict"):
        display_class.from_estimator(pipeline, *args)

    # the plot the message suggests instead draws
    distiller, X_scaled = pipeline[-1], pipeline[:-1].transform(X[100:])
    display = PredictionErrorDisplay.from_predictions(
        distiller.teacher_predict(X_scaled), distiller.predict(X_scaled), kind="actual_vs_predicted"
    )
    assert display.ax_ is not None


def test_displays_refuse_what_is_not_a_fitted_distiller(data):
    X, y = data
    with pytest.raises(
        TypeError, match="needs a fitted DistilledClassifier, or a Pipeline ending in one; got Logistic"
    ):
        FidelityDisplay.from_estimator(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), X)
    unfitted = make_pipeline(StandardScaler(), DistilledClassifier(LogisticRegression()))
    with pytest.raises(NotFittedError):
        ReliabilityDisplay.from_estimator(unfitted, X, y)


def test_a_clear_error_without_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'skdistill\[plot\]'"):
        FidelityDisplay.from_predictions([0, 1], [0, 1])
