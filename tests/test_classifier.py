"""DistilledClassifier: the distillation contract, scikit-learn integration, and bad input."""

import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.tree import DecisionTreeClassifier
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from conftest import CountingModule, assert_unchanged, make_teacher_module, snapshot
from skdistill import DistilledClassifier, MLPStudent, SklearnTeacher, TorchStudent, TorchTeacher

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def fast_mlp(**params):
    return MLPStudent(**{"hidden_layer_sizes": (16,), "max_iter": 20, "random_state": 0, **params})


def test_alpha_one_is_ordinary_training(data, teacher_module):
    X, y = data
    distilled = DistilledClassifier(teacher_module, fast_mlp(), T=3.0, alpha=1.0).fit(X, y)
    plain = fast_mlp().fit(X, y)
    np.testing.assert_array_equal(distilled.predict_proba(X), plain.predict_proba(X))


def test_pure_distillation_learns_the_teacher_without_labels(data, teacher_module):
    X, _ = data
    clf = DistilledClassifier(teacher_module, fast_mlp(max_iter=300, learning_rate_init=0.01), T=1.0, alpha=0.0).fit(X)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    teacher_labels = clf.teacher_.predict(X)
    assert np.mean(clf.predict(X) == teacher_labels) > 0.9
    # and that is not what the labels of the data say: the untrained teacher disagrees with y.
    assert np.mean(teacher_labels == data[1]) < 0.6


def test_student_learns_different_things_at_different_temperatures(data, teacher_module):
    X, y = data
    cold = DistilledClassifier(teacher_module, fast_mlp(), T=1.0, alpha=0.0).fit(X, y)
    hot = DistilledClassifier(teacher_module, fast_mlp(), T=8.0, alpha=0.0).fit(X, y)
    assert not np.allclose(cold.predict_proba(X), hot.predict_proba(X), atol=1e-3)


def test_teacher_runs_once_per_fit_in_batches(data, teacher_module):
    X, y = data
    counting = CountingModule(teacher_module)
    clf = DistilledClassifier(TorchTeacher(counting, batch_size=64), fast_mlp(max_iter=25, batch_size=16), alpha=0.5)
    clf.fit(X, y)
    assert clf.student_.n_iter_ == 25
    assert counting.rows_scored == len(X)
    assert max(counting.batch_sizes) == 64
    clf.predict_proba(X)
    assert counting.rows_scored == len(X)  # prediction never needs the teacher


def test_teacher_module_is_left_as_it_was(data):
    X, y = data
    module = make_teacher_module()
    module.train()
    module[0].weight.requires_grad_(False)
    before = snapshot(module)
    DistilledClassifier(module, fast_mlp(), alpha=0.5).fit(X, y)
    assert_unchanged(module, before)


def test_inputs_are_not_modified(data, teacher_module):
    X, y = data
    X_before, y_before = X.copy(), y.copy()
    weight = np.linspace(0, 1, len(y))
    weight_before = weight.copy()
    student = fast_mlp()
    params_before = student.get_params()
    DistilledClassifier(teacher_module, student, alpha=0.5).fit(X, y, sample_weight=weight)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    np.testing.assert_array_equal(weight, weight_before)
    assert student.get_params() == params_before and not hasattr(student, "module_")


def test_teacher_columns_are_matched_by_label_not_position(data):
    X, y = data
    fitted = LogisticRegression().fit(X, y)

    class Reversed:
        """The same teacher with its columns (and classes_) in reverse order."""

        classes_ = fitted.classes_[::-1]

        def predict_proba(self, X):
            return fitted.predict_proba(X)[:, ::-1]

    straight = DistilledClassifier(fitted, fast_mlp(), alpha=0.0).fit(X, y)
    reversed_ = DistilledClassifier(Reversed(), fast_mlp(), alpha=0.0).fit(X, y)
    np.testing.assert_array_equal(reversed_.classes_, [0, 1, 2])
    np.testing.assert_allclose(reversed_.predict_proba(X), straight.predict_proba(X), rtol=1e-6)


def test_classes_the_teacher_knows_but_y_lacks_are_kept(data):
    X, y = data
    teacher = LogisticRegression().fit(X, y)
    two_classes = y < 2
    clf = DistilledClassifier(teacher, fast_mlp(), alpha=0.2).fit(X[two_classes], y[two_classes])
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.predict_proba(X).shape == (len(X), 3)


def test_string_labels(data, teacher_module):
    X, y = data
    names = np.array(["bird", "cat", "dog"])[y]
    for teacher in (teacher_module, LogisticRegression()):
        clf = DistilledClassifier(teacher, fast_mlp(), alpha=0.5).fit(X, names)
        np.testing.assert_array_equal(clf.classes_, ["bird", "cat", "dog"])
        assert set(clf.predict(X)) <= {"bird", "cat", "dog"}


def test_labels_unknown_to_the_teacher_are_named(data):
    X, y = data
    teacher = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match=r"y has labels the teacher does not score: \[7\]"):
        DistilledClassifier(teacher, fast_mlp()).fit(X, np.where(y == 2, 7, y))


def test_pandas_input(data, teacher_module):
    X, y = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = DistilledClassifier(teacher_module, fast_mlp(), alpha=0.5).fit(frame, pd.Series(y))
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)
    np.testing.assert_array_equal(clf.predict(frame), clf.student_.predict(X))


def test_zero_weight_rows_are_left_out_and_weights_matter(data, teacher_module):
    X, y = data
    weight = np.where(np.arange(len(y)) % 3 == 0, 0.0, 1.0)
    kept = weight > 0
    # The float32 teacher scores all 150 rows in one fit and the 100 kept rows in the other; a row's
    # float32 logits depend on its batch size on some CPUs (AVX2 MKL: ~2e-6), so the teacher scores
    # one row at a time here. Both fits then see the same logits and train the same rows with the
    # same operations: bit-identical on any CPU.
    teacher = TorchTeacher(teacher_module, batch_size=1)
    weighted = DistilledClassifier(teacher, fast_mlp(), alpha=0.5).fit(X, y, sample_weight=weight)
    subset = DistilledClassifier(teacher, fast_mlp(), alpha=0.5).fit(X[kept], y[kept])
    np.testing.assert_array_equal(weighted.predict_proba(X), subset.predict_proba(X))
    unweighted = DistilledClassifier(teacher, fast_mlp(), alpha=0.5).fit(X, y)
    assert not np.allclose(weighted.predict_proba(X), unweighted.predict_proba(X), atol=1e-4)


def test_clone_shares_trained_teachers_and_copies_the_rest(data):
    X, y = data
    module = make_teacher_module()
    fitted = LogisticRegression().fit(X, y)
    unfitted = LogisticRegression()
    student = fast_mlp()
    assert clone(DistilledClassifier(module, student)).teacher is module
    assert clone(DistilledClassifier(fitted, student)).teacher is fitted
    assert clone(DistilledClassifier(unfitted, student)).teacher is not unfitted
    assert clone(DistilledClassifier(TorchTeacher(module), student)).teacher.module is module
    assert clone(DistilledClassifier(module, student)).student is not student
    template = torch.nn.Linear(6, 3)
    assert clone(DistilledClassifier(module, TorchStudent(template))).student.module is not template


class NoCopyModule(torch.nn.Module):
    """A teacher that fails the test if anything deep-copies it."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        return self.module(x)

    def __deepcopy__(self, memo):
        raise AssertionError("the teacher was deep-copied")


def test_grid_search_never_copies_the_teacher(data):
    X, y = data
    teacher = NoCopyModule(make_teacher_module())
    search = GridSearchCV(
        DistilledClassifier(teacher, fast_mlp(max_iter=5)), {"T": [1.0, 4.0], "alpha": [0.0, 0.5]}, cv=3
    ).fit(X, y)
    assert search.best_estimator_.teacher is teacher
    assert search.best_estimator_.teacher_.module is teacher


def test_pipeline_and_grid_search_sequential_and_parallel_agree(data, teacher_module):
    X, y = data
    pipeline = make_pipeline(StandardScaler(), DistilledClassifier(teacher_module, fast_mlp(max_iter=10)))
    grid = {
        "distilledclassifier__T": [1.0, 4.0],
        "distilledclassifier__alpha": [0.0, 0.5],
        "distilledclassifier__student__learning_rate_init": [0.01],
    }
    sequential = GridSearchCV(pipeline, grid, cv=3, n_jobs=1).fit(X, y)
    parallel = GridSearchCV(pipeline, grid, cv=3, n_jobs=2).fit(X, y)
    assert len(sequential.cv_results_["params"]) == 4
    np.testing.assert_allclose(
        sequential.cv_results_["mean_test_score"], parallel.cv_results_["mean_test_score"], rtol=1e-12
    )
    assert sequential.best_params_ == parallel.best_params_
    np.testing.assert_array_equal(sequential.predict(X), parallel.predict(X))


def test_cross_val_score_with_an_unfitted_sklearn_teacher(data):
    X, y = data
    clf = DistilledClassifier(LogisticRegression(), fast_mlp(max_iter=100, learning_rate_init=0.01), alpha=0.3)
    scores = cross_val_score(clf, X, y, cv=3)
    assert scores.shape == (3,)
    assert scores.mean() > 0.6  # three classes: chance is 1/3


def test_student_parameters_are_grid_searchable(teacher_module):
    clf = DistilledClassifier(teacher_module, fast_mlp())
    assert clf.get_params()["student__max_iter"] == 20
    clf.set_params(student__max_iter=3, T=2.0)
    assert clf.student.max_iter == 3 and clf.T == 2.0


@pytest.mark.parametrize("dump_load", ["pickle", "joblib"])
def test_persistence_round_trip(data, teacher_module, tmp_path, dump_load):
    X, y = data
    clf = DistilledClassifier(teacher_module, fast_mlp(dropout=0.1), alpha=0.5).fit(X, y)
    if dump_load == "pickle":
        restored = pickle.loads(pickle.dumps(clf))
    else:
        joblib.dump(clf, tmp_path / "clf.joblib")
        restored = joblib.load(tmp_path / "clf.joblib")
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.teacher_.predict_proba(X), clf.teacher_.predict_proba(X))


def test_default_student_is_an_mlp(data, teacher_module):
    X, y = data
    clf = DistilledClassifier(teacher_module).set_params()
    assert clf.student is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X[:40], y[:40])
    assert isinstance(clf.student_, MLPStudent)


def test_bare_module_student_is_wrapped(data, teacher_module):
    X, y = data
    template = make_teacher_module(seed=3)
    clf = DistilledClassifier(teacher_module, template, alpha=0.5).fit(X, y)
    assert isinstance(clf.student_, TorchStudent)
    assert clf.student_.module_ is not template


# ---- bad input: clear errors, raised before any work --------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_X(data, teacher_module, bad):
    X, y = data
    X = X.copy()
    X[3, 2] = bad
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        DistilledClassifier(teacher_module, fast_mlp()).fit(X, y)


def test_wrong_number_of_features_at_predict(data, teacher_module):
    X, y = data
    clf = DistilledClassifier(teacher_module, fast_mlp()).fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features, but DistilledClassifier is expecting 6 features"):
        clf.predict(X[:, :5])


def test_predict_before_fit(data, teacher_module):
    X, _ = data
    for method in ("predict", "predict_proba", "predict_log_proba"):
        with pytest.raises(NotFittedError):
            getattr(DistilledClassifier(teacher_module, fast_mlp()), method)(X)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"T": 0.0}, "The 'T' parameter of DistilledClassifier must be a float in the range \\(0(\\.0)?, inf\\)"),
        ({"T": -1.0}, "'T' parameter"),
        (
            {"alpha": 1.5},
            "The 'alpha' parameter of DistilledClassifier must be a float in the range \\[0(\\.0)?, 1(\\.0)?\\]",
        ),
        ({"alpha": -0.1}, "'alpha' parameter"),
        ({"teacher": "a teacher"}, "'teacher' parameter"),
        ({"student": "a student"}, "'student' parameter"),
    ],
)
def test_bad_parameters(data, teacher_module, params, message):
    X, y = data
    clf = DistilledClassifier(teacher_module, fast_mlp()).set_params(**params)
    with pytest.raises(InvalidParameterError, match=message):
        clf.fit(X, y)


def test_bad_student_parameter_is_caught_before_the_teacher_runs(data, teacher_module):
    X, y = data
    counting = CountingModule(teacher_module)
    with pytest.raises(InvalidParameterError, match="max_iter"):
        DistilledClassifier(counting, fast_mlp(max_iter=0)).fit(X, y)
    assert counting.rows_scored == 0


def test_one_class(data, teacher_module):
    X, _ = data
    with pytest.raises(ValueError, match=r"y contains only one class \(1\)"):
        DistilledClassifier(teacher_module, fast_mlp()).fit(X, np.ones(len(X), dtype=int))


def test_no_labels_needs_alpha_zero(data, teacher_module):
    X, _ = data
    with pytest.raises(ValueError, match="requires y to be passed.*set alpha=0"):
        DistilledClassifier(teacher_module, fast_mlp(), alpha=0.1).fit(X)


def test_no_labels_needs_a_trained_teacher(data):
    X, _ = data
    with pytest.raises(ValueError, match="LogisticRegression is not fitted: fitting it requires y to be passed"):
        DistilledClassifier(LogisticRegression(), fast_mlp(), alpha=0.0).fit(X)


def test_teacher_width_mismatch(data, teacher_module):
    X, y = data
    clf = DistilledClassifier(teacher_module, fast_mlp())
    with pytest.raises(ValueError, match=r"The teacher module scores 3 classes .* has 4"):
        clf.fit(X, np.arange(len(X)) % 4)
    assert not hasattr(clf, "student_")


def test_non_finite_teacher_output_stops_before_training(data, teacher_module):
    X, y = data

    class NaNTeacher(torch.nn.Module):
        def forward(self, x):
            return teacher_module(x) * float("nan")

    clf = DistilledClassifier(NaNTeacher(), fast_mlp())
    with pytest.raises(ValueError, match="non-finite values"):
        clf.fit(X, y)
    assert not hasattr(clf, "student_")


def test_unsupported_student_explains_what_works(data, teacher_module):
    from sklearn.cluster import KMeans

    X, y = data
    with pytest.raises(
        TypeError, match="KMeans cannot learn from soft labels.*a regressor, MLPStudent, or TorchStudent"
    ):
        DistilledClassifier(teacher_module, KMeans(n_clusters=3)).fit(X, y)


# ---- review fixes: each test fails without its fix ----------------------------------------------


def test_a_fitted_teachers_parameters_cannot_be_tuned_or_changed(data):
    X, y = data
    fitted = LogisticRegression(C=1.0).fit(X, y)
    clf = DistilledClassifier(fitted, fast_mlp())
    assert not any(key.startswith("teacher__") for key in clf.get_params())
    with pytest.raises(ValueError, match="Cannot set teacher__C: the teacher is already trained"):
        clone(clf).set_params(teacher__C=123.0)
    with pytest.raises(ValueError, match="Cannot set teacher__C"):
        GridSearchCV(clf, {"teacher__C": [0.01, 7.0]}, cv=2).fit(X, y)
    assert fitted.C == 1.0
    adapter = SklearnTeacher(fitted)
    assert not any(key.startswith("estimator__") for key in adapter.get_params())
    with pytest.raises(ValueError, match="Cannot set estimator__C"):
        adapter.set_params(estimator__C=3.0)
    assert fitted.C == 1.0


def test_an_unfitted_teachers_parameters_are_tuned_on_clones(data):
    X, y = data
    unfitted = LogisticRegression(C=1.0)
    search = GridSearchCV(DistilledClassifier(unfitted, fast_mlp(max_iter=5)), {"teacher__C": [0.01, 7.0]}, cv=2).fit(
        X, y
    )
    assert search.best_estimator_.teacher_.estimator_.C in (0.01, 7.0)
    assert unfitted.C == 1.0 and not hasattr(unfitted, "coef_")


def test_rows_weighted_out_do_not_change_the_classes(data, teacher_module):
    X, y = data
    clf = DistilledClassifier(teacher_module, fast_mlp(), alpha=0.5).fit(X, y, sample_weight=(y != 2).astype(float))
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    explicit = DistilledClassifier(TorchTeacher(teacher_module, classes=[0, 1, 2]), fast_mlp(), alpha=0.5)
    assert explicit.fit(X[y < 2], y[y < 2]).predict_proba(X).shape == (len(X), 3)


def test_all_zero_weights_are_refused(data, teacher_module):
    X, y = data
    with pytest.raises(ValueError, match="Sample weights must contain at least one non-zero number"):
        DistilledClassifier(teacher_module, fast_mlp()).fit(X, y, sample_weight=np.zeros(len(y)))


def test_a_fitted_pipeline_teacher_gets_the_dataframe(data):
    from sklearn.compose import ColumnTransformer

    X, y = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    teacher = make_pipeline(
        ColumnTransformer([("scaled", StandardScaler(), ["f0", "f1", "f2", "f3"])], remainder="drop"),
        LogisticRegression(),
    ).fit(frame, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = DistilledClassifier(teacher, fast_mlp(), alpha=0.5).fit(frame, y)
    assert not [w for w in caught if "feature names" in str(w.message)]
    np.testing.assert_allclose(clf.teacher_.predict_proba(frame), teacher.predict_proba(frame), rtol=1e-6)


class InPlaceReLU(torch.nn.Module):
    """A module that overwrites its input, as ``relu_`` or ``inplace=True`` layers do."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, x):
        return self.module(torch.relu_(x))


def test_in_place_modules_cannot_modify_the_users_X(data, teacher_module):
    X, y = data
    X = X - 0.5  # negative values, which relu_ would zero
    X_before = X.copy()
    student = TorchStudent(InPlaceReLU(make_teacher_module(seed=4)), max_iter=3, random_state=0)
    clf = DistilledClassifier(InPlaceReLU(teacher_module), student, alpha=0.5).fit(X, y)
    clf.predict_proba(X)
    np.testing.assert_array_equal(X, X_before)


def test_a_last_batch_of_one_row_works_with_batch_norm(data):
    X, y = data
    net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    student = TorchStudent(net, max_iter=2, batch_size=149, random_state=0).fit(X, y)  # 150 rows: 149 + 1
    assert student.n_iter_ == 2


def test_wrong_input_width_is_a_clear_error(data, teacher_module):
    X, y = data
    with pytest.raises(ValueError, match="The teacher module failed on X with 5 features"):
        DistilledClassifier(teacher_module, fast_mlp()).fit(X[:, :5], y)
    with pytest.raises(ValueError, match="failed on X with 5 features"):
        TorchStudent(make_teacher_module()).fit(X[:, :5], y)


def test_target_required_tag_follows_alpha_and_teacher(data):
    X, y = data
    fitted = LogisticRegression().fit(X, y)
    assert not DistilledClassifier(fitted, alpha=0.0).__sklearn_tags__().target_tags.required
    assert DistilledClassifier(fitted, alpha=0.5).__sklearn_tags__().target_tags.required
    assert DistilledClassifier(LogisticRegression(), alpha=0.0).__sklearn_tags__().target_tags.required
    assert DistilledClassifier(fitted, alpha="0.5").__sklearn_tags__().target_tags.required


def test_column_vector_y_warns_and_works(data, teacher_module):
    from sklearn.exceptions import DataConversionWarning

    X, y = data
    with pytest.warns(DataConversionWarning):
        clf = DistilledClassifier(teacher_module, fast_mlp()).fit(X, y[:, None])
    assert clf.predict(X).shape == (len(X),)


def test_binary_single_logit_teacher(data):
    X, y = data
    binary = (y > 0).astype(int)
    linear = torch.nn.Linear(6, 1)
    clf = DistilledClassifier(linear, fast_mlp(max_iter=200, learning_rate_init=0.01), T=1.0, alpha=0.0)
    clf.fit(X, binary)
    with torch.no_grad():
        teacher_positive = (linear(torch.from_numpy(X)).numpy().ravel() > 0).astype(int)
    assert np.mean(clf.predict(X) == teacher_positive) > 0.9


def test_early_stopping_through_the_distiller(data, teacher_module):
    X, y = data
    clf = DistilledClassifier(teacher_module, fast_mlp(early_stopping=True, max_iter=50), alpha=0.5).fit(X, y)
    curve = clf.student_.validation_loss_curve_
    assert len(curve) == clf.student_.n_iter_
    assert clf.student_.best_validation_loss_ == min(curve)


def test_a_users_own_student_protocol_is_accepted(data, teacher_module):
    X, y = data

    class TeacherCopy(MLPStudent):
        """A student of the user's: records the targets it was given, then trains as an MLP."""

        def fit_distill(self, X, targets, sample_weight=None):
            self.targets_seen_ = targets
            return super().fit_distill(X, targets, sample_weight)

    clf = DistilledClassifier(teacher_module, TeacherCopy(max_iter=3, random_state=0), T=2.0, alpha=0.3).fit(X, y)
    assert clf.student_.targets_seen_.T == 2.0 and clf.student_.targets_seen_.alpha == 0.3
    assert clf.student_.targets_seen_.teacher_logits.shape == (len(X), 3)


def test_log_probabilities_stay_finite_where_probabilities_underflow(data, teacher_module):
    X, y = data
    clf = DistilledClassifier(teacher_module, fast_mlp(max_iter=200, learning_rate_init=0.05), alpha=1.0).fit(X, y)
    far = X * 1000.0  # logits far apart: some probabilities underflow to 0 in float64
    assert (clf.predict_proba(far) == 0).any()
    log_proba = clf.predict_log_proba(far)
    assert np.isfinite(log_proba).all()
    np.testing.assert_allclose(np.exp(log_proba), clf.predict_proba(far), atol=1e-12)


class _FailingStudent(GaussianNB):
    """A classifier (sample_weight route) whose fit fails, after the teacher has run."""

    def fit(self, X, y, sample_weight=None):
        raise RuntimeError("the student failed")


@pytest.mark.parametrize("failure", ["student", "interrupt_in_teacher", "bad_y"])
def test_a_failed_refit_leaves_the_previous_fit_whole(data, failure):
    X, y = data
    model = DistilledClassifier(LogisticRegression(), DecisionTreeClassifier(max_depth=2, random_state=0))
    model.fit(X, y)
    before = dict(vars(model))
    proba = model.predict_proba(X)
    X_new, y_new = np.hstack([X, X[:, :1]]), np.where(y == 0, "a", "b")  # another width, other labels
    if failure == "student":
        model.set_params(student=_FailingStudent())
        with pytest.raises(RuntimeError, match="the student failed"):
            model.fit(X_new, y_new)
    elif failure == "interrupt_in_teacher":

        class Interrupting(LogisticRegression):
            def fit(self, X, y, sample_weight=None):
                raise KeyboardInterrupt

        model.set_params(teacher=Interrupting())
        with pytest.raises(KeyboardInterrupt):
            model.fit(X_new, y_new)
    else:
        with pytest.raises(ValueError):
            model.fit(X_new, np.zeros(len(X_new)))  # one class: refused after validation reset the width
    assert vars(model).keys() - {"student", "teacher"} == before.keys() - {"student", "teacher"}
    for name, value in before.items():
        if name not in ("student", "teacher"):
            assert vars(model)[name] is value, name
    np.testing.assert_array_equal(model.predict_proba(X), proba)


@pytest.mark.parametrize(
    "make_teacher, required",
    [
        (lambda module, fitted, unfitted: module, False),
        (lambda module, fitted, unfitted: TorchTeacher(module), False),
        (lambda module, fitted, unfitted: fitted, False),
        (lambda module, fitted, unfitted: SklearnTeacher(fitted), False),
        (lambda module, fitted, unfitted: unfitted, True),
        (lambda module, fitted, unfitted: SklearnTeacher(unfitted), True),
    ],
)
def test_tags_say_whether_y_is_required_as_fit_does(data, teacher_module, make_teacher, required):
    from sklearn.utils import get_tags

    X, y = data
    teacher = make_teacher(teacher_module, LogisticRegression().fit(X, y), LogisticRegression())
    model = DistilledClassifier(teacher, DecisionTreeClassifier(max_depth=2), alpha=0.0)
    assert get_tags(model).target_tags.required is required
    assert hasattr(model, "partial_fit") is not required or isinstance(model.student, DecisionTreeClassifier)
    if required:
        with pytest.raises(ValueError, match="requires y"):
            model.fit(X, None)
    else:
        assert model.fit(X, None).predict(X).shape == (len(X),)
    assert get_tags(DistilledClassifier(teacher, alpha=0.5)).target_tags.required


def test_partial_fit_is_offered_exactly_for_trained_teachers(data, teacher_module):
    X, y = data
    from sklearn.linear_model import SGDClassifier

    student = SGDClassifier(loss="log_loss")
    for teacher, offered in [
        (teacher_module, True),
        (TorchTeacher(teacher_module), True),
        (SklearnTeacher(LogisticRegression().fit(X, y)), True),
        (SklearnTeacher(LogisticRegression()), False),
        (LogisticRegression(), False),
    ]:
        assert hasattr(DistilledClassifier(teacher, student), "partial_fit") is offered
