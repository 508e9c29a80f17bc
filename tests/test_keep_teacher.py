"""keep_teacher=False: a lean fitted estimator whose pickle never holds the teacher."""

import ctypes
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.ensemble import AdaBoostClassifier, BaggingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import cross_val_score
from sklearn.tree import DecisionTreeClassifier

from conftest import make_teacher_module
from skdistill import DistilledClassifier, DistilledRegressor, MLPStudent, SklearnTeacher, TorchTeacher
from skdistill.metrics import fidelity_scorer


def big_teacher(n_features=6, n_classes=3, width=2048, seed=0):
    """A trained-looking network of about 4.2M parameters (17 MB of float32)."""
    generator = torch.Generator().manual_seed(seed)
    module = torch.nn.Sequential(
        torch.nn.Linear(n_features, width), torch.nn.ReLU(), torch.nn.Linear(width, width), torch.nn.ReLU(),
        torch.nn.Linear(width, n_classes),
    )
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.05)
    return module


class UnpicklableTeacher(torch.nn.Module):
    """A teacher that pickling refuses: a lean pickle must not even try."""

    def __init__(self):
        super().__init__()
        self.inner = make_teacher_module()
        self.handle = ctypes.pointer(ctypes.c_int(0))

    def forward(self, x):
        return self.inner(x)


@pytest.mark.parametrize("student", [DecisionTreeClassifier(max_depth=3, random_state=0), MLPStudent(hidden_layer_sizes=(8,), max_iter=5, random_state=0)])
def test_lean_pickle_holds_the_student_not_the_teacher(data, student):
    X, y = data
    teacher = big_teacher()
    kept = DistilledClassifier(teacher, student, memory=False).fit(X, y)
    lean = DistilledClassifier(teacher, student, memory=False, keep_teacher=False).fit(X, y)
    kept_bytes, lean_bytes = len(pickle.dumps(kept)), len(pickle.dumps(lean))
    student_bytes = len(pickle.dumps(lean.student_))
    assert kept_bytes > 16e6  # the 4.2M float32 weights
    assert lean_bytes < student_bytes + 5_000, (lean_bytes, student_bytes)
    loaded = pickle.loads(pickle.dumps(lean))
    np.testing.assert_array_equal(loaded.predict_proba(X), kept.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), lean.predict(X))
    assert "left behind by keep_teacher=False" in loaded.teacher
    assert not hasattr(lean, "teacher_") and lean.teacher is teacher  # the parameter is left as given in-process


def test_lean_pickle_of_an_unpicklable_teacher(data):
    X, y = data
    lean = DistilledClassifier(UnpicklableTeacher(), LogisticRegression(), memory=False, keep_teacher=False).fit(X, y)
    loaded = pickle.loads(pickle.dumps(lean))
    np.testing.assert_array_equal(loaded.predict(X), lean.predict(X))
    with pytest.raises(ValueError, match="ctypes"):
        pickle.dumps(DistilledClassifier(UnpicklableTeacher(), LogisticRegression(), memory=False).fit(X, y))


def test_what_needs_the_teacher_says_it_was_left_behind(data):
    X, y = data
    lean = DistilledClassifier(make_teacher_module(), LogisticRegression(), keep_teacher=False).fit(X, y)
    for method in ("fidelity", "teacher_proba", "partial_fit"):
        assert not hasattr(lean, method)
    with pytest.raises(AttributeError, match="has no attribute 'fidelity': .*keep_teacher=False.*left its teacher behind"):
        lean.fidelity(X)
    with pytest.raises(AttributeError, match="partial_fit scores every chunk with the teacher"):
        lean.partial_fit(X, y)
    with pytest.raises(AttributeError, match="keep_teacher=False"):
        cross_val_score(clone(lean), X, y, cv=2, scoring=fidelity_scorer, error_score="raise")
    # Unfitted, the methods exist (and say it is not fitted), as for any estimator.
    assert hasattr(DistilledClassifier(make_teacher_module(), keep_teacher=False), "teacher_proba")


def test_a_loaded_lean_estimator_cannot_be_refit_and_says_why(data):
    X, y = data
    lean = DistilledClassifier(make_teacher_module(), LogisticRegression(), keep_teacher=False).fit(X, y)
    loaded = pickle.loads(pickle.dumps(lean))
    with pytest.raises(ValueError, match="teacher Sequential left behind by keep_teacher=False"):
        clone(loaded).fit(X, y)


@pytest.mark.parametrize(
    "teacher, name",
    [
        # A meta-estimator's `estimator` parameter is its base estimator (or None): not the teacher's name.
        (RandomForestClassifier(5, random_state=0), "RandomForestClassifier"),
        (BaggingClassifier(n_estimators=3, random_state=0), "BaggingClassifier"),
        (AdaBoostClassifier(n_estimators=3, random_state=0), "AdaBoostClassifier"),
        (SklearnTeacher(RandomForestClassifier(5, random_state=0)), "RandomForestClassifier"),
        (TorchTeacher(make_teacher_module()), "Sequential"),
    ],
)
def test_a_lean_pickle_names_the_teacher_itself(data, teacher, name):
    X, y = data
    lean = DistilledClassifier(teacher, DecisionTreeClassifier(max_depth=2), keep_teacher=False).fit(X, y)
    assert pickle.loads(pickle.dumps(lean)).teacher == f"<teacher {name} left behind by keep_teacher=False>"


def test_lean_regressor(data):
    X, y = data
    target = X[:, 0] * 2.0
    lean = DistilledRegressor(Ridge(), Ridge(), keep_teacher=False).fit(X, target)
    loaded = pickle.loads(pickle.dumps(lean))
    np.testing.assert_array_equal(loaded.predict(X), lean.predict(X))
    assert not hasattr(loaded, "teacher_predict") and not hasattr(lean, "fidelity")
    assert "Ridge left behind" in loaded.teacher


def test_a_refit_with_keep_teacher_true_brings_the_teacher_back(data):
    X, y = data
    clf = DistilledClassifier(make_teacher_module(), LogisticRegression(), keep_teacher=False).fit(X, y)
    clf.set_params(keep_teacher=True).fit(X, y)
    assert 0 <= clf.fidelity(X) <= 1


def test_setting_keep_teacher_false_after_fit_still_pickles_lean(data):
    X, y = data
    teacher = big_teacher()
    clf = DistilledClassifier(teacher, DecisionTreeClassifier(max_depth=3, random_state=0), memory=False).fit(X, y)
    clf.set_params(keep_teacher=False)
    assert len(pickle.dumps(clf)) < len(pickle.dumps(clf.student_)) + 5_000
    loaded = pickle.loads(pickle.dumps(clf))
    assert not hasattr(loaded, "teacher_") and not hasattr(loaded, "fidelity")
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
