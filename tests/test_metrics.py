"""Fidelity metrics against their formulas, and as scorers in model selection."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from skdistill import DistilledClassifier
from skdistill.metrics import (
    fidelity_score,
    fidelity_scorer,
    kl_divergence,
    neg_kl_divergence_scorer,
    neg_total_variation_scorer,
    total_variation,
)


def test_formulas():
    p = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    q = np.array([[0.25, 0.75, 0.0], [0.2, 0.3, 0.5]])
    assert fidelity_score([0, 2, 1], [0, 2, 2]) == pytest.approx(2 / 3)
    assert fidelity_score([0, 1], [0, 0], sample_weight=[3, 1]) == pytest.approx(0.75)
    expected_kl = 0.5 * np.log(0.5 / 0.25) + 0.5 * np.log(0.5 / 0.75)
    assert kl_divergence(p, q) == pytest.approx(expected_kl / 2)
    assert total_variation(p, q) == pytest.approx(0.25 / 2)
    assert kl_divergence(p, p) == 0.0 and total_variation(p, p) == 0.0
    assert kl_divergence([[0.5, 0.5]], [[1.0, 0.0]]) == np.inf
    with pytest.raises(ValueError, match=r"shape \(n_samples, n_classes\); got \(2, 3\) and \(1, 3\)"):
        kl_divergence(p, q[:1])


def test_fidelity_of_the_fitted_pair(data):
    X, y = data
    X_train, X_test, y_train = X[:100], X[100:], y[:100]
    clf = DistilledClassifier(LogisticRegression(), DecisionTreeClassifier(max_depth=2), alpha=0.0).fit(
        X_train, y_train
    )
    teacher_proba = clf.teacher_.predict_proba(X_test)
    assert clf.fidelity(X_test) == fidelity_score(clf.teacher_.predict(X_test), clf.predict(X_test))
    assert clf.fidelity(X_test, metric="kl") == pytest.approx(kl_divergence(teacher_proba, clf.predict_proba(X_test)))
    tv = total_variation(teacher_proba, clf.predict_proba(X_test))
    assert clf.fidelity(X_test, metric="total_variation") == pytest.approx(tv)
    with pytest.raises(ValueError, match="metric must be one of"):
        clf.fidelity(X_test, metric="accuracy")


def test_scorers_in_grid_search_and_cross_validate(data):
    X, y = data
    pipeline = make_pipeline(StandardScaler(), DistilledClassifier(LogisticRegression(), DecisionTreeClassifier()))
    search = GridSearchCV(pipeline, {"distilledclassifier__student__max_depth": [1, 6]}, scoring=fidelity_scorer, cv=3)
    search.fit(X, y)
    # a deeper tree imitates the teacher better
    assert search.best_params_ == {"distilledclassifier__student__max_depth": 6}
    scores = cross_validate(
        pipeline,
        X,
        y,
        cv=3,
        scoring={"fidelity": fidelity_scorer, "kl": neg_kl_divergence_scorer, "tv": neg_total_variation_scorer},
    )
    assert (scores["test_fidelity"] > 0.5).all()
    assert (scores["test_kl"] <= 0).all() and (scores["test_tv"] <= 0).all()
