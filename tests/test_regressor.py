"""DistilledRegressor: the blended target, every kind of teacher and student, transfer sets, streaming, errors."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_regression
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, SGDRegressor
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from skdistill import (
    DistilledClassifier,
    DistilledRegressor,
    MLPStudent,
    TorchStudent,
    TorchTeacher,
    clear_teacher_cache,
    teacher_cache_info,
)
from skdistill.metrics import (
    mean_absolute_difference,
    neg_mean_absolute_difference_scorer,
    regression_fidelity_score,
    regression_fidelity_scorer,
)


@pytest.fixture
def regression_data():
    """(X, y): 120 rows, 5 float32 features, one target with noise."""
    X, y = make_regression(n_samples=120, n_features=5, n_informative=4, noise=5.0, random_state=0)
    return X.astype(np.float32), y / 50.0


def regression_net(n_features=5, n_outputs=1, seed=0):
    generator = torch.Generator().manual_seed(seed)
    module = torch.nn.Sequential(torch.nn.Linear(n_features, 8), torch.nn.Tanh(), torch.nn.Linear(8, n_outputs))
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator))
    return module


def test_classical_student_is_fitted_to_the_blended_target(regression_data):
    X, y = regression_data
    teacher = RandomForestRegressor(n_estimators=10, random_state=0).fit(X, y)
    reg = DistilledRegressor(teacher, Ridge(alpha=0.5), alpha=0.3).fit(X, y)
    by_hand = Ridge(alpha=0.5).fit(X, 0.3 * y + 0.7 * teacher.predict(X))
    np.testing.assert_allclose(reg.student_.coef_, by_hand.coef_, rtol=1e-10)
    np.testing.assert_allclose(reg.predict(X), by_hand.predict(X), rtol=1e-10)
    assert reg.route_ == "blended" and reg.n_outputs_ == 1 and reg.predict(X).shape == (len(X),)


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_neural_student_learns_a_regression_head(regression_data, alpha):
    X, y = regression_data
    teacher = Ridge().fit(X, y)
    student = MLPStudent(hidden_layer_sizes=(32,), max_iter=300, learning_rate_init=0.01, random_state=0)
    reg = DistilledRegressor(teacher, student, alpha=alpha).fit(X, y)
    assert reg.route_ == "native" and reg.student_.n_outputs_ == 1 and not hasattr(reg.student_, "classes_")
    assert reg.fidelity(X) > 0.9  # a linear teacher is easy to imitate
    with pytest.raises(AttributeError, match="regression head"):
        reg.student_.predict_proba(X)


def test_neural_loss_is_the_blend_of_two_squared_errors(regression_data):
    """The loss of a row: alpha * ||s - y||^2 + (1 - alpha) * ||s - t||^2; the teacher's term alone without y."""
    from skdistill.losses import BlendedSquaredError

    s = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    t = torch.tensor([[0.0, 2.0], [1.0, 1.0]])
    y = torch.tensor([[3.0, 2.0], [0.0, 0.0]])
    loss = BlendedSquaredError(alpha=0.25).per_sample(s, t, y, torch.tensor([1.0, 0.0]))
    np.testing.assert_allclose(loss.numpy(), [0.25 * 4 + 0.75 * 1, 2.0])


@pytest.mark.parametrize("n_outputs", [1, 3])
# The teacher is an untrained network, unrelated to y: fit rightly warns that its predictions are far
# from y (R² below -1), which this test of shapes does not need.
@pytest.mark.filterwarnings("ignore:The teacher's predictions on the training rows")
def test_torch_teacher_of_one_or_several_outputs(regression_data, n_outputs):
    X, y = regression_data
    net = regression_net(n_outputs=n_outputs)
    targets = y if n_outputs == 1 else np.column_stack([y] * n_outputs)
    reg = DistilledRegressor(net, DecisionTreeRegressor(max_depth=4, random_state=0), alpha=0.0).fit(X, targets)
    with torch.inference_mode():
        expected = net(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(reg.teacher_predict(X), expected[:, 0] if n_outputs == 1 else expected, rtol=1e-6)
    assert reg.predict(X).shape == targets.shape and reg.n_outputs_ == n_outputs
    assert reg.fidelity(X) > 0.5


def test_torch_teacher_returning_a_vector(regression_data):
    X, y = regression_data

    class Vector(torch.nn.Module):
        def forward(self, x):
            return x.sum(dim=1)

    reg = DistilledRegressor(Vector(), LinearRegression(), alpha=0.0).fit(X, y)
    np.testing.assert_allclose(reg.predict(X), X.astype(np.float64).sum(axis=1), rtol=1e-5, atol=1e-5)


def test_multi_output_y_with_a_single_output_regressor_student(regression_data):
    X, y = regression_data
    Y = np.column_stack([y, -2 * y])
    reg = DistilledRegressor(LinearRegression(), SGDRegressor(random_state=0), alpha=0.5).fit(X, Y)
    assert reg.predict(X).shape == (len(X), 2)
    assert reg.fidelity(X) > 0.9
    column = DistilledRegressor(LinearRegression(), Ridge()).fit(X, y[:, None])
    assert column.predict(X).shape == (len(X), 1)  # a 2-D y of one column predicts 2-D, as scikit-learn does


def test_transfer_rows_take_the_teacher_predictions(regression_data):
    X, y = regression_data
    X_extra = X[:40] + 0.5
    teacher = RandomForestRegressor(n_estimators=10, random_state=0).fit(X, y)
    reg = DistilledRegressor(teacher, LinearRegression(), alpha=1.0).fit(X, y, X_unlabeled=X_extra)
    by_hand = LinearRegression().fit(np.vstack([X, X_extra]), np.concatenate([y, teacher.predict(X_extra)]))
    np.testing.assert_allclose(reg.student_.coef_, by_hand.coef_, rtol=1e-6)


def test_augment_adds_teacher_labelled_rows(regression_data):
    X, y = regression_data
    reg = DistilledRegressor(Ridge(), Ridge(), alpha=0.0, augment="noise", augment_size=2.0, random_state=0)
    reg.fit(X, y)
    assert reg.student_.n_features_in_ == X.shape[1]
    assert reg.fidelity(X) > 0.99


def test_sample_weight_zero_rows_are_left_out(regression_data):
    X, y = regression_data
    weight = np.ones(len(X))
    weight[:30] = 0
    teacher = Ridge().fit(X, y)
    weighted = DistilledRegressor(teacher, LinearRegression(), alpha=0.5).fit(X, y, sample_weight=weight)
    dropped = DistilledRegressor(teacher, LinearRegression(), alpha=0.5).fit(X[30:], y[30:])
    np.testing.assert_allclose(weighted.predict(X), dropped.predict(X), rtol=1e-6)


def test_teacher_outputs_are_cached_between_fits(regression_data):
    X, y = regression_data
    clear_teacher_cache()
    reg = DistilledRegressor(RandomForestRegressor(n_estimators=5, random_state=0), Ridge())
    reg.fit(X, y)
    before = teacher_cache_info()
    clone(reg).set_params(student__alpha=3.0).fit(X, y)
    after = teacher_cache_info()
    assert after.hits == before.hits + 1 and after.misses == before.misses


def test_trained_teacher_is_shared_by_clone_and_left_unchanged(regression_data):
    X, y = regression_data
    net = regression_net()
    net.train()
    net[0].weight.requires_grad_(False)
    weights = {name: value.clone() for name, value in net.state_dict().items()}
    reg = DistilledRegressor(net, Ridge()).fit(X, y)
    assert clone(reg).teacher is net
    assert net.training and not net[0].weight.requires_grad and net[2].weight.requires_grad
    for name, value in net.state_dict().items():
        assert torch.equal(value, weights[name])
    assert reg.teacher_.module is net


def test_partial_fit_with_regressor_and_neural_students(regression_data):
    X, y = regression_data
    teacher = Ridge().fit(X, y)
    sgd = DistilledRegressor(teacher, SGDRegressor(random_state=0), alpha=0.5)
    for _ in range(10):
        for chunk in np.array_split(np.arange(len(X)), 4):
            sgd.partial_fit(X[chunk], y[chunk])
    assert isinstance(sgd.student_, SGDRegressor) and sgd.fidelity(X) > 0.8
    neural = DistilledRegressor(teacher, TorchStudent(torch.nn.Linear(5, 1), learning_rate_init=0.05, random_state=0))
    for _ in range(20):
        neural.partial_fit(X, y)
    assert neural.student_.n_iter_ == 20 and neural.fidelity(X) > 0.8


def test_partial_fit_is_offered_only_when_it_can_work(regression_data):
    assert not hasattr(DistilledRegressor(Ridge(), SGDRegressor()), "partial_fit")  # unfitted teacher
    X, y = regression_data
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit': .*LinearRegression has no partial_fit"):
        DistilledRegressor(Ridge().fit(X, y), LinearRegression()).partial_fit(X, y)


def test_fidelity_functions_and_scorers(regression_data):
    X, y = regression_data
    assert regression_fidelity_score([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == 1.0
    assert mean_absolute_difference([[1.0, 2.0]], [[2.0, 0.0]]) == pytest.approx(1.5)
    pipeline = make_pipeline(StandardScaler(), DistilledRegressor(Ridge(), DecisionTreeRegressor(max_depth=3)))
    r2 = cross_val_score(pipeline, X, y, cv=3, scoring=regression_fidelity_scorer)
    mad = cross_val_score(pipeline, X, y, cv=3, scoring=neg_mean_absolute_difference_scorer)
    assert (r2 > 0.3).all() and (r2 <= 1).all() and (mad < 0).all()
    reg = pipeline.fit(X, y)[-1]
    Xs = pipeline[0].transform(X)
    assert reg.fidelity(Xs, metric="mean_absolute_difference") == pytest.approx(
        np.abs(reg.teacher_predict(Xs) - reg.predict(Xs)).mean()
    )
    with pytest.raises(ValueError, match="metric must be one of"):
        reg.fidelity(Xs, metric="agreement")


def test_pickle_round_trip_with_a_torch_teacher(regression_data):
    X, y = regression_data
    reg = DistilledRegressor(regression_net(), MLPStudent(hidden_layer_sizes=(8,), max_iter=20, random_state=0))
    reg.fit(X, y)
    loaded = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    np.testing.assert_array_equal(loaded.teacher_predict(X), reg.teacher_predict(X))
    assert loaded.teacher is loaded.teacher_.module


def test_dataframe_input_keeps_feature_names(regression_data):
    pd = pytest.importorskip("pandas")
    X, y = regression_data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    reg = DistilledRegressor(Ridge(), DecisionTreeRegressor(max_depth=2)).fit(frame, y)
    assert list(reg.feature_names_in_) == list(frame.columns)
    assert list(reg.student_.feature_names_in_) == list(frame.columns)


class CountingRegressor(Ridge):
    """A Ridge that counts the rows it is asked to predict."""

    predicted_rows = 0

    def predict(self, X):
        CountingRegressor.predicted_rows += len(X)
        return super().predict(X)


def test_bad_input_is_refused_before_any_work(regression_data):
    X, y = regression_data
    with pytest.raises(ValueError, match="LogisticRegression is a classifier.*DistilledClassifier"):
        DistilledRegressor(LogisticRegression(), Ridge()).fit(X, y)
    with pytest.raises(ValueError, match="student DecisionTreeClassifier is a classifier"):
        DistilledRegressor(Ridge(), DecisionTreeClassifier()).fit(X, y)
    with pytest.raises(ValueError, match="is a classifier"):
        DistilledRegressor(TorchTeacher(regression_net(n_outputs=2)), Ridge()).fit(X, y)
    with pytest.raises(ValueError, match="regression teacher.*DistilledRegressor"):
        DistilledClassifier(TorchTeacher(regression_net(), output="values"), Ridge()).fit(X, (y > 0).astype(int))
    # A teacher whose width differs from y's: found on one row, before the teacher scores the data.
    teacher = CountingRegressor().fit(X, np.column_stack([y, y]))
    CountingRegressor.predicted_rows = 0
    with pytest.raises(ValueError, match=r"teacher predicts 2 output\(s\) per row, but y has 1"):
        DistilledRegressor(teacher, Ridge(), memory=False).fit(X, y)
    assert CountingRegressor.predicted_rows <= 2  # one row, to learn the width
    with pytest.raises(ValueError, match="y contains NaN"):
        DistilledRegressor(Ridge(), Ridge()).fit(X, np.full(len(X), np.nan))
    with pytest.raises(ValueError, match="requires y"):
        DistilledRegressor(Ridge(), Ridge()).fit(X)


def test_a_failed_refit_leaves_the_previous_fit_whole(regression_data):
    X, y = regression_data
    reg = DistilledRegressor(Ridge(), Ridge()).fit(X, y)
    before = reg.predict(X)
    with pytest.raises(ValueError):
        reg.fit(X, np.column_stack([y, y]), X_unlabeled=X[:, :2])
    np.testing.assert_array_equal(reg.predict(X), before)
    assert reg.n_outputs_ == 1


def test_out_of_fold_teacher_predictions(regression_data):
    from sklearn.model_selection import KFold, cross_val_predict

    X, y = regression_data
    forest = RandomForestRegressor(n_estimators=10, random_state=0)
    reg = DistilledRegressor(forest, LinearRegression(), alpha=0.0, teacher_cv=KFold(3)).fit(X, y)
    out_of_fold = cross_val_predict(forest, X, y, cv=KFold(3))
    np.testing.assert_allclose(reg.student_.coef_, LinearRegression().fit(X, out_of_fold).coef_, rtol=1e-10)
    # The teacher kept is the one fitted on every row.
    np.testing.assert_array_equal(reg.teacher_predict(X), clone(forest).fit(X, y).predict(X))


def test_several_regression_teachers_are_averaged(regression_data):
    from skdistill import TeacherEnsemble

    X, y = regression_data
    net = regression_net()
    ridge = Ridge().fit(X, y)
    with torch.inference_mode():
        net_predictions = net(torch.as_tensor(X)).numpy()[:, 0].astype(np.float64)
    listed = DistilledRegressor([net, ridge], LinearRegression(), alpha=0.0).fit(X, y)
    np.testing.assert_allclose(listed.teacher_predict(X), (net_predictions + ridge.predict(X)) / 2, rtol=1e-5)
    weighted = DistilledRegressor(
        TeacherEnsemble([("net", net), ("ridge", ridge)], weights=[0, 1]), LinearRegression(), alpha=0.0
    ).fit(X, y)
    np.testing.assert_allclose(weighted.teacher_predict(X), ridge.predict(X), rtol=1e-10)
    only_nets = DistilledRegressor([net, regression_net(seed=1)], LinearRegression(), alpha=0.0).fit(X, y)
    assert only_nets.teacher_predict(X).shape == (len(X),)


def test_fitted_pipeline_teacher_that_selects_dataframe_columns_by_name(regression_data):
    pd = pytest.importorskip("pandas")
    from sklearn.compose import make_column_transformer

    X, y = regression_data
    frame = pd.DataFrame(X, columns=list("abcde"))
    pipeline = make_pipeline(make_column_transformer((StandardScaler(), ["a", "c"])), Ridge()).fit(frame, y)
    reg = DistilledRegressor(pipeline, DecisionTreeRegressor(max_depth=2), augment="noise", random_state=0).fit(frame, y)
    np.testing.assert_allclose(reg.teacher_predict(frame), pipeline.predict(frame))


@pytest.mark.parametrize("classifier_name", ["SVC", "RidgeClassifier"])
def test_classifiers_without_predict_proba_are_not_regression_teachers(regression_data, classifier_name):
    from sklearn import linear_model, svm

    X, y = regression_data
    classifier = getattr(svm, classifier_name, None) or getattr(linear_model, classifier_name)
    with pytest.raises(ValueError, match=f"teacher {classifier_name} is a classifier"):
        DistilledRegressor(classifier(), Ridge()).fit(X, (y > 0).astype(int))
    with pytest.raises(ValueError, match=f"{classifier_name} is a classifier without predict_proba"):
        DistilledClassifier([classifier(), LogisticRegression()], LogisticRegression()).fit(X, (y > 0).astype(int))


def test_a_regressor_given_to_the_classifier_is_pointed_to_distilled_regressor(regression_data):
    X, y = regression_data
    with pytest.raises(ValueError, match="teacher Ridge predicts values.*Use DistilledRegressor"):
        DistilledClassifier(Ridge(), LogisticRegression()).fit(X, (y > 0).astype(int))


def test_list_teacher_with_a_torch_module_persists_once_with_pickle_and_skops(regression_data):
    skops_io = pytest.importorskip("skops.io")
    X, y = regression_data
    reg = DistilledRegressor([regression_net(), Ridge()], DecisionTreeRegressor(max_depth=2)).fit(X, y)
    loaded = pickle.loads(pickle.dumps(reg))
    assert loaded.teacher[0] is loaded.teacher_.teachers_[0].module  # stored once, shared again
    np.testing.assert_array_equal(loaded.teacher_predict(X), reg.teacher_predict(X))
    blob = skops_io.dumps(reg)
    restored = skops_io.loads(blob, trusted=skops_io.get_untrusted_types(data=blob))
    np.testing.assert_allclose(restored.teacher_predict(X), reg.teacher_predict(X), rtol=1e-12)
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))


def test_multi_output_y_with_an_unfitted_single_output_teacher(regression_data):
    from sklearn.svm import SVR

    X, y = regression_data
    Y = np.column_stack([y, -y])
    reg = DistilledRegressor(SVR(), Ridge(), alpha=0.0).fit(X, Y)
    assert reg.teacher_predict(X).shape == (len(X), 2)
    np.testing.assert_allclose(reg.teacher_predict(X)[:, 0], SVR().fit(X, y).predict(X), rtol=1e-10)


def test_first_partial_fit_keeps_the_shape_of_y(regression_data):
    X, y = regression_data
    reg = DistilledRegressor(Ridge().fit(X, y), SGDRegressor(random_state=0)).partial_fit(X, y[:, None])
    assert reg.predict(X).shape == (len(X), 1)


def test_a_list_teacher_cannot_be_tuned_and_says_what_to_use(regression_data):
    reg = DistilledRegressor([Ridge(), Ridge(alpha=3.0)], Ridge())
    with pytest.raises(ValueError, match="list of teachers is shorthand.*TeacherEnsemble"):
        reg.set_params(teacher__weights=[1, 2])


def test_a_student_predicting_nan_is_named(regression_data):
    X, y = regression_data

    class NaNRegressor(Ridge):
        def predict(self, X):
            return np.full(len(X), np.nan)

    reg = DistilledRegressor(Ridge(), NaNRegressor()).fit(X, y)
    with pytest.raises(ValueError, match="student NaNRegressor.predict returned NaN or infinite values for 120 of 120"):
        reg.predict(X)
