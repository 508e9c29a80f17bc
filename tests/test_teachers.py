"""Teacher adapters: outputs, class alignment, batching, errors, and never touching the user's model."""

import numpy as np
import pytest
import torch
from scipy.special import softmax
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from conftest import CountingModule, assert_unchanged, make_teacher_module, snapshot
from skdistill import SklearnTeacher, TorchTeacher


def module_logits(module, X):
    with torch.no_grad():
        return module(torch.from_numpy(X)).double().numpy()


def test_logits_are_the_modules_outputs(data, teacher_module):
    X, y = data
    teacher = TorchTeacher(teacher_module).fit(X, y)
    np.testing.assert_allclose(teacher.logits(X), module_logits(teacher_module, X), rtol=1e-6)
    np.testing.assert_allclose(teacher.predict_proba(X), softmax(module_logits(teacher_module, X), axis=1), rtol=1e-5)
    np.testing.assert_array_equal(teacher.classes_, [0, 1, 2])


def test_probability_output_is_turned_into_logits(data, teacher_module):
    X, y = data
    proba_module = torch.nn.Sequential(teacher_module, torch.nn.Softmax(dim=1))
    from_proba = TorchTeacher(proba_module, output="proba").fit(X, y)
    from_logits = TorchTeacher(teacher_module).fit(X, y)
    np.testing.assert_allclose(from_proba.predict_proba(X), from_logits.predict_proba(X), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("output", ["logits", "proba"])
@pytest.mark.parametrize("shape", [(1,), ()])
def test_binary_teacher_with_one_output(data, output, shape):
    X, _ = data
    linear = torch.nn.Linear(X.shape[1], 1)
    squeeze = torch.nn.Flatten(0) if shape == () else torch.nn.Identity()
    layers = [linear, torch.nn.Sigmoid()] if output == "proba" else [linear]
    teacher = TorchTeacher(torch.nn.Sequential(*layers, squeeze), output=output).fit(X)
    with torch.no_grad():
        p_positive = torch.sigmoid(linear(torch.from_numpy(X))).double().numpy().ravel()
    np.testing.assert_allclose(teacher.predict_proba(X)[:, 1], p_positive, rtol=1e-5)
    np.testing.assert_array_equal(teacher.classes_, [0, 1])


def test_explicit_classes_in_column_order(data, teacher_module):
    X, _ = data
    teacher = TorchTeacher(teacher_module, classes=["cat", "dog", "ant"]).fit(X)
    assert teacher.classes_.tolist() == ["cat", "dog", "ant"]
    expected = np.array(["cat", "dog", "ant"])[module_logits(teacher_module, X).argmax(axis=1)]
    np.testing.assert_array_equal(teacher.predict(X), expected)


def test_width_mismatch_names_both_sides(data, teacher_module):
    X, _ = data
    with pytest.raises(ValueError, match=r"scores 3 classes .* classes=\['a', 'b'\] has 2"):
        TorchTeacher(teacher_module, classes=["a", "b"]).fit(X)
    with pytest.raises(ValueError, match=r"scores 3 classes .* y, whose distinct labels are \[0, 1, 2, 3\], has 4"):
        TorchTeacher(teacher_module).fit_logits(X, np.arange(len(X)) % 4)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_outputs_are_refused(data, teacher_module, bad):
    X, y = data

    class Broken(torch.nn.Module):
        def forward(self, x):
            out = teacher_module(x)
            out[5, 1] = bad
            return out

    with pytest.raises(ValueError, match=r"non-finite values \(NaN or inf\) for 1 of 150 rows \(first at row 5\)"):
        TorchTeacher(Broken()).fit_logits(X, y)


def test_probabilities_out_of_range_suggest_logits(data, teacher_module):
    X, y = data
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        TorchTeacher(teacher_module, output="proba").fit_logits(X, y)


def test_inference_is_batched_and_single_pass(data, teacher_module):
    X, y = data
    counting = CountingModule(teacher_module)
    logits = TorchTeacher(counting, batch_size=32).fit_logits(X, y)
    assert logits.shape == (150, 3)
    assert counting.batch_sizes == [32, 32, 32, 32, 22]


def test_the_users_module_is_left_as_it_was(data):
    X, y = data
    module = torch.nn.Sequential(
        torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 3)
    )
    module.train()
    module[3].weight.requires_grad_(False)
    before = snapshot(module)
    teacher = TorchTeacher(module).fit(X, y)
    first = teacher.logits(X)
    assert_unchanged(module, before)
    # eval mode during inference: dropout off and batch-norm running stats used (and not updated).
    np.testing.assert_array_equal(first, teacher.logits(X))


def test_device_is_restored(data, teacher_module):
    X, y = data
    TorchTeacher(teacher_module, device="cpu").fit_logits(X, y)
    assert next(teacher_module.parameters()).device.type == "cpu"


def test_bad_device_is_named(data, teacher_module):
    X, y = data
    with pytest.raises(ValueError, match="device='tpu9' is not a device torch knows"):
        TorchTeacher(teacher_module, device="tpu9").fit_logits(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised when CUDA is missing")
def test_cuda_without_a_gpu_is_a_clear_error(data, teacher_module):
    X, y = data
    with pytest.raises(ValueError, match="CUDA is not available"):
        TorchTeacher(teacher_module, device="cuda").fit_logits(X, y)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_inference_leaves_the_module_on_its_device(data, teacher_module):
    X, y = data
    cpu_logits = TorchTeacher(teacher_module).fit_logits(X, y)
    cuda_logits = TorchTeacher(teacher_module, device="cuda").fit_logits(X, y)
    np.testing.assert_allclose(cuda_logits, cpu_logits, rtol=1e-4, atol=1e-5)
    assert next(teacher_module.parameters()).device.type == "cpu"


def test_clone_shares_the_module():
    module = make_teacher_module()
    teacher = TorchTeacher(module, batch_size=7)
    copy = clone(teacher)
    assert copy is not teacher
    assert copy.module is module
    assert copy.batch_size == 7


def test_fitted_sklearn_teacher_is_used_and_shared_not_copied(data):
    X, y = data
    fitted = LogisticRegression().fit(X, y)
    coef = fitted.coef_.copy()
    teacher = SklearnTeacher(fitted).fit(X[:20], y[:20])
    assert teacher.estimator_ is fitted
    np.testing.assert_array_equal(fitted.coef_, coef)
    assert clone(SklearnTeacher(fitted)).estimator is fitted


def test_unfitted_sklearn_teacher_is_cloned_then_fitted(data):
    X, y = data
    unfitted = LogisticRegression()
    teacher = SklearnTeacher(unfitted).fit(X, y)
    assert teacher.estimator_ is not unfitted
    assert not hasattr(unfitted, "coef_")
    assert clone(SklearnTeacher(unfitted)).estimator is not unfitted
    np.testing.assert_allclose(teacher.predict_proba(X), LogisticRegression().fit(X, y).predict_proba(X), rtol=1e-6)


def test_sklearn_logits_are_log_probabilities_and_zeros_stay_finite(data):
    X, y = data
    tree = DecisionTreeClassifier(random_state=0).fit(X, y)  # probabilities of exactly 0 and 1
    teacher = SklearnTeacher(tree).fit(X, y)
    logits = teacher.logits(X)
    assert np.isfinite(logits).all()
    np.testing.assert_allclose(softmax(logits, axis=1), tree.predict_proba(X), atol=1e-12)
    # Tempering keeps an impossible class impossible: p ** (1 / T) with p = 0 is 0.
    assert softmax(logits / 10.0, axis=1)[tree.predict_proba(X) == 0].max() < 1e-20


def test_sklearn_teacher_sample_weight_is_passed_on(data):
    X, y = data
    weight = np.where(y == 0, 5.0, 1.0)
    teacher = SklearnTeacher(GaussianNB()).fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(
        teacher.estimator_.class_prior_, GaussianNB().fit(X, y, sample_weight=weight).class_prior_
    )


def test_sklearn_teacher_argument_errors(data):
    X, y = data
    with pytest.raises(ValueError, match="KNeighborsClassifier does not accept sample_weight"):
        SklearnTeacher(KNeighborsClassifier()).fit(X, y, sample_weight=np.ones(len(y)))
    with pytest.raises(ValueError, match="is not fitted: fitting it requires y to be passed"):
        SklearnTeacher(LogisticRegression()).fit(X)


def test_sklearn_teacher_with_bad_predict_proba(data):
    X, y = data

    class Bad:
        classes_ = np.array([0, 1, 2])

        def predict_proba(self, X):
            return np.full((len(X), 2), 0.5)

    with pytest.raises(ValueError, match=r"must return shape \(n_samples, n_classes\) = \(150, 3\).*got \(150, 2\)"):
        SklearnTeacher(Bad()).fit_logits(X, y)


class _PoolsRows(torch.nn.Module):
    """Returns one row per batch instead of one per input row: a broken teacher."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(6, 3)

    def forward(self, x):
        return self.linear(x).mean(dim=0, keepdim=True)


@pytest.mark.parametrize("batch_size", [1024, 4])
def test_a_teacher_returning_the_wrong_number_of_rows_is_refused(data, batch_size):
    X, y = data
    with pytest.raises(ValueError, match=r"one row of scores per input row.* returned shape \(1, 3\)"):
        TorchTeacher(_PoolsRows(), batch_size=batch_size).fit_logits(X, y)
