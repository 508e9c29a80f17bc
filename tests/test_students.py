"""Neural students: training knobs, reproducibility, early stopping, errors, and no global RNG use."""

import functools
import pickle
import sys
import warnings

import numpy as np
import pytest
import torch
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

from conftest import CountingModule, assert_unchanged, make_teacher_module, snapshot
from skdistill import DistilledClassifier, MLPStudent, TorchStudent
from skdistill.students._training import TrainingRows, train


def fast_mlp(**params):
    return MLPStudent(**{"hidden_layer_sizes": (16,), "max_iter": 20, "random_state": 0, **params})


def small_net():
    return make_teacher_module(n_features=6, n_classes=3, seed=1)


@pytest.mark.parametrize("kind", ["mlp-dropout", "torch"])
def test_same_random_state_same_predictions_and_global_rngs_untouched(data, kind):
    X, y = data
    net = small_net()  # built before the global state is read: building a module draws from it

    def make():
        if kind == "torch":
            return TorchStudent(net, max_iter=20, batch_size=32, random_state=0)
        return fast_mlp(dropout=0.3, batch_size=32)

    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    first = make().fit(X, y).predict_proba(X)
    second = make().fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state[1])
    other = make().set_params(random_state=1).fit(X, y).predict_proba(X)
    assert not np.allclose(first, other)


def test_template_module_is_not_trained(data):
    X, y = data
    net = small_net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    student = TorchStudent(net, max_iter=5, random_state=0).fit(X, y)
    assert student.module_ is not net
    for name, tensor in net.state_dict().items():
        assert torch.equal(tensor, before[name])
    assert not torch.equal(student.module_[0].weight, net[0].weight)


def test_fitted_attributes(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        student = fast_mlp(max_iter=7).fit(X, y)
    assert student.n_iter_ == 7 == len(student.loss_curve_)
    assert student.best_loss_ == min(student.loss_curve_)
    assert student.validation_loss_curve_ is None and student.best_validation_loss_ is None
    assert student.n_features_in_ == 6
    np.testing.assert_array_equal(student.classes_, [0, 1, 2])
    assert not student.module_.training
    proba = student.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(student.predict_log_proba(X), np.log(proba), rtol=1e-9)
    np.testing.assert_array_equal(student.predict(X), proba.argmax(axis=1))


def test_loss_goes_down(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        curve = fast_mlp(max_iter=30, learning_rate_init=0.01).fit(X, y).loss_curve_
    assert curve[-1] < 0.6 * curve[0]


def test_stops_after_n_iter_no_change_epochs_without_improvement(data):
    X, y = data
    # With tol larger than any possible improvement, only the first epoch (which improves on an
    # infinite best loss) counts as one; as in MLPClassifier, training stops once more than
    # n_iter_no_change epochs in a row have not improved.
    student = fast_mlp(max_iter=100, tol=1e6, n_iter_no_change=3).fit(X, y)
    assert student.n_iter_ == 1 + 3 + 1


def test_hitting_max_iter_warns(data):
    X, y = data
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        fast_mlp(max_iter=3).fit(X, y)


def test_early_stopping_records_validation_losses(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        student = fast_mlp(early_stopping=True, max_iter=15, validation_fraction=0.2).fit(X, y)
    assert len(student.validation_loss_curve_) == student.n_iter_ == len(student.loss_curve_)
    assert student.best_validation_loss_ == min(student.validation_loss_curve_)
    assert student.best_loss_ is None


def test_early_stopping_restores_the_best_epoch():
    # A learning rate far too high makes the validation loss worse after the first epochs; the
    # weights kept must be those of the best validation epoch.
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(200, 5, generator=generator)
    noise = torch.rand(200, generator=generator) < 0.3  # 30% flipped labels: no loss near 0 exists
    y = ((X[:, 0] > 0) ^ noise).long()
    module = torch.nn.Linear(5, 2)
    rows = TrainingRows(X=X, y=y, teacher_log_probs=None, weight=None)
    history = train(
        module,
        torch.optim.SGD(module.parameters(), lr=50.0),
        rows.subset(torch.arange(150)),
        rows.subset(torch.arange(150, 200)),
        T=1.0,
        alpha=1.0,
        max_iter=30,
        batch_size=10,
        tol=1e-4,
        n_iter_no_change=3,
        shuffle_generator=torch.Generator().manual_seed(0),
        progress=None,
    )
    final_loss = torch.nn.functional.cross_entropy(module(X[150:]), y[150:]).item()
    assert history.n_iter < 30  # stopped early, so the last epochs were no improvement
    assert history.best_validation_loss == min(history.validation_loss_curve)
    assert history.best_validation_loss < history.validation_loss_curve[-1]
    assert final_loss == pytest.approx(history.best_validation_loss, rel=1e-5)


def test_early_stopping_split_is_stratified_when_possible(data):
    X, y = data
    student = fast_mlp(early_stopping=True, validation_fraction=0.2)
    train_index, validation_index = student._validation_split(y, len(y), np.random.RandomState(0))
    assert len(validation_index) == 30
    np.testing.assert_array_equal(np.bincount(y[validation_index]), [10, 10, 10])
    # A class with a single row cannot be stratified: the split is random instead of failing.
    y_rare = y.copy()
    y_rare[0] = 3
    train_index, validation_index = student._validation_split(y_rare, len(y), np.random.RandomState(0))
    assert len(train_index) + len(validation_index) == len(y)


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd"])
def test_named_optimizers_train(data, optimizer):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        student = fast_mlp(optimizer=optimizer, learning_rate_init=0.01, max_iter=30).fit(X, y)
    assert student.loss_curve_[-1] < student.loss_curve_[0]


def test_callable_optimizer_gets_lr_and_weight_decay(data):
    X, y = data
    calls = []

    def make_sgd(parameters, lr, weight_decay):
        calls.append((lr, weight_decay))
        return torch.optim.SGD(parameters, lr=lr, weight_decay=weight_decay, momentum=0.5)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fast_mlp(optimizer=make_sgd, learning_rate_init=0.05, weight_decay=0.001).fit(X, y)
        fast_mlp(optimizer=functools.partial(torch.optim.SGD, momentum=0.9)).fit(X, y)
    assert calls == [(0.05, 0.001)]


def test_an_optimizer_that_does_not_take_lr_and_weight_decay_is_refused_before_the_teacher_runs(data):
    X, y = data
    expected = r"optimizer\(parameters, lr=learning_rate_init, weight_decay=weight_decay\).*<lambda>\(params\)"
    student = fast_mlp(optimizer=lambda params: torch.optim.SGD(params, lr=0.1))
    with pytest.raises(TypeError, match=expected):
        student.fit(X, y)
    assert not hasattr(student, "module_")

    teacher, rows_scored = small_net(), []
    teacher.register_forward_hook(lambda module, inputs, output: rows_scored.append(len(output)))
    with pytest.raises(TypeError, match=expected):
        DistilledClassifier(teacher, student).fit(X, y)
    assert rows_scored == []


def test_verbose_shows_a_progress_bar_with_the_loss(data, capsys):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fast_mlp(max_iter=3, verbose=True).fit(X, y)
    err = capsys.readouterr().err
    assert "3/3" in err and "loss=" in err and "epoch" in err


def test_verbose_without_tqdm_is_a_clear_error_before_training(data, monkeypatch):
    X, y = data
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    student = fast_mlp(verbose=True)
    with pytest.raises(ImportError, match=r"pip install 'skdistill\[progress\]'"):
        student.fit(X, y)
    assert not hasattr(student, "module_")


def test_integer_weights_match_repeated_rows(data):
    # Full-batch training: weight k on a row is the same objective as k copies of it.
    X, y = data
    weights = np.random.RandomState(0).randint(0, 4, size=len(y))
    repeated = np.repeat(np.arange(len(y)), weights)
    params = {"batch_size": 10_000, "max_iter": 20, "learning_rate_init": 0.01}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = fast_mlp(**params).fit(X, y, sample_weight=weights)
        copies = fast_mlp(**params).fit(X[repeated], y[repeated])
    np.testing.assert_allclose(weighted.predict_proba(X), copies.predict_proba(X), rtol=1e-4, atol=1e-6)
    unweighted = fast_mlp(**params).fit(X, y)
    assert not np.allclose(weighted.predict_proba(X), unweighted.predict_proba(X), rtol=1e-3)


def test_output_width_mismatch_is_named(data):
    X, y = data
    net = torch.nn.Linear(6, 5)
    with pytest.raises(ValueError, match=r"logits of shape \(n_samples, n_classes\) = \(n, 3\).*shape \(2, 5\)"):
        TorchStudent(net).fit(X, y)


class FitCountingForest(RandomForestClassifier):
    fits = 0

    def fit(self, X, y, sample_weight=None):
        FitCountingForest.fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize(
    "module, message",
    [
        (torch.nn.Linear(4, 3), "The student module failed on X with 6 features; check that it takes 6 inputs"),
        (torch.nn.Linear(6, 4), r"logits of shape \(n_samples, n_classes\) = \(n, 3\).*shape \(2, 4\)"),
    ],
    ids=["input width", "output width"],
)
@pytest.mark.parametrize("teacher_kind", ["trained module", "unfitted forest"])
def test_a_torch_student_of_the_wrong_width_is_refused_before_the_teacher_runs(data, module, message, teacher_kind):
    X, y = data
    counting = CountingModule(make_teacher_module())
    teacher = counting if teacher_kind == "trained module" else FitCountingForest(n_estimators=5)
    FitCountingForest.fits = 0
    before = snapshot(module)
    with pytest.raises(ValueError, match=message):
        DistilledClassifier(teacher, TorchStudent(module), memory=False).fit(X, y)
    assert FitCountingForest.fits == 0
    assert counting.rows_scored <= 1  # one row to read the module's width, as TorchTeacher.fit does
    assert_unchanged(module, before)


def test_one_class_is_refused(data):
    X, _ = data
    with pytest.raises(ValueError, match="only one class"):
        fast_mlp().fit(X, np.zeros(len(X)))


@pytest.mark.parametrize(
    "params, name",
    [
        ({"max_iter": 0}, "max_iter"),
        ({"batch_size": "big"}, "batch_size"),
        ({"learning_rate_init": 0.0}, "learning_rate_init"),
        ({"dropout": 1.0}, "dropout"),
        ({"activation": "swish"}, "activation"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"hidden_layer_sizes": (16, 0)}, "hidden_layer_sizes"),
    ],
)
def test_bad_parameters_are_named(data, params, name):
    X, y = data
    with pytest.raises((InvalidParameterError, ValueError), match=name):
        fast_mlp(**params).fit(X, y)


def test_devices(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        auto = fast_mlp(device="auto").fit(X, y)
        cpu = fast_mlp(device=torch.device("cpu")).fit(X, y)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert next(auto.module_.parameters()).device.type == expected
    if expected == "cpu":
        np.testing.assert_array_equal(auto.predict_proba(X), cpu.predict_proba(X))
    with pytest.raises(ValueError, match="is not a device torch knows"):
        fast_mlp(device="gpu0").fit(X, y)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_training_matches_cpu_closely(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cuda = fast_mlp(device="cuda").fit(X, y)
        cpu = fast_mlp(device="cpu").fit(X, y)
    assert np.mean(cuda.predict(X) == cpu.predict(X)) > 0.95


def test_pickle_round_trip(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        student = fast_mlp(dropout=0.2).fit(X, y)
    restored = pickle.loads(pickle.dumps(student))
    np.testing.assert_array_equal(restored.predict_proba(X), student.predict_proba(X))


def test_linear_student_and_integer_hidden_size(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        linear = fast_mlp(hidden_layer_sizes=()).fit(X, y)
        single = fast_mlp(hidden_layer_sizes=8).fit(X, y)
    assert [type(m).__name__ for m in linear.module_] == ["Linear"]
    assert single.module_[0].out_features == 8


def test_torch_dropout_layers_are_seeded_and_put_back(data):
    X, y = data
    net = torch.nn.Sequential(torch.nn.Linear(6, 32), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(32, 3))
    torch_state = torch.get_rng_state()
    first = TorchStudent(net, max_iter=10, batch_size=32, random_state=0).fit(X, y)
    second = TorchStudent(net, max_iter=10, batch_size=32, random_state=0).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert type(first.module_[2]) is torch.nn.Dropout and not first.module_.training
    assert type(net[2]) is torch.nn.Dropout


def test_progress_bar_is_drawn_once_with_the_final_loss(data, capsys):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        student = fast_mlp(max_iter=3, verbose=True).fit(X, y)
    err = capsys.readouterr().err
    states = [state for state in err.strip().split("\r") if state.strip()]
    assert all("/3 " in state for state in states), states  # every redraw is of the one 3-epoch bar
    assert err.count("0/3") == 1  # opened once
    final_state = states[-1]
    assert "3/3" in final_state
    assert f"loss={student.loss_curve_[-1]:.4g}" in final_state  # the last epoch's loss, not the one before


def _wide_data(n_rows=300, n_features=64, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_rows, n_features)).astype(np.float32)
    return X, (X[:, :3].sum(axis=1) > 0).astype(int) + (X[:, 3] > 1)


@pytest.mark.parametrize("kind", ["mlp", "torch", "distilled"])
def test_a_rows_prediction_does_not_depend_on_its_batch(kind):
    # float32 matrix products are blocked differently for different batch sizes (AVX-512 kernels
    # moved a row's probability by up to 4.6e-7 between a batch of one and the whole set): inference
    # runs in float64, so a row's prediction depends on its batch only to float64 round-off.
    from skdistill import DistilledClassifier

    X, y = _wide_data()
    wide = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                               torch.nn.ReLU(), torch.nn.Linear(128, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if kind == "mlp":
            model = MLPStudent(hidden_layer_sizes=(256, 64), max_iter=3, random_state=0).fit(X, y)
        elif kind == "torch":
            model = TorchStudent(wide, max_iter=3, random_state=0).fit(X, y)
        else:
            student = MLPStudent(hidden_layer_sizes=(128,), max_iter=3, random_state=0)
            model = DistilledClassifier(make_teacher_module(64, 3), student).fit(X, y)
    whole = model.predict_proba(X)
    assert whole.dtype == np.float64
    for batch_size in (1, 7):
        for start in range(0, len(X), batch_size):
            part = model.predict_proba(X[start : start + batch_size])
            np.testing.assert_allclose(part, whole[start : start + batch_size], rtol=1e-12, atol=1e-14)
    # Equal predictions follow from the above only without near-ties: no row's top two probabilities
    # are within float64 round-off of each other, so no CPU's rounding can flip an argmax.
    top_two = np.sort(whole, axis=1)[:, -2:]
    assert (top_two[:, 1] - top_two[:, 0] > 1e-9).all()
    np.testing.assert_array_equal(model.predict(X[::-1]), model.predict(X)[::-1])
    module = model.student_.module_ if kind == "distilled" else model.module_
    assert all(p.dtype == torch.float32 for p in module.parameters())  # training dtype untouched


@pytest.mark.parametrize("transfer", ["augment", "X_unlabeled", "no_labels"])
def test_early_stopping_splits_transfer_rows_stratified_by_the_teachers_labels(data, transfer):
    # The unlabelled marker (-1) used to reach the stratified split: "'list' argument must have no
    # negative elements". Unlabelled rows now split too, stratified by the teacher's argmax.
    from skdistill import DistilledClassifier

    X, y = data
    teacher = make_teacher_module()
    student = fast_mlp(early_stopping=True, validation_fraction=0.2, max_iter=10)
    kwargs = {"augment": "munge", "augment_size": 1.0, "random_state": 0} if transfer == "augment" else {}
    model = DistilledClassifier(teacher, student, alpha=0.0 if transfer == "no_labels" else 0.5, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if transfer == "X_unlabeled":
            model.fit(X[:100], y[:100], X_unlabeled=X[100:])
        else:
            model.fit(X, None if transfer == "no_labels" else y)
    assert model.student_.validation_loss_curve_
    assert np.isfinite(model.predict_proba(X)).all()


def test_stratification_labels_use_the_teacher_for_unlabelled_rows():
    from skdistill._base import DistillationTargets
    from skdistill.students._neural_base import _stratification_labels

    logits = np.array([[0.0, 5.0], [5.0, 0.0], [0.0, 5.0], [5.0, 0.0]])
    targets = DistillationTargets(teacher_logits=logits, y=np.array([0, -1, -1, 1]), classes=np.array([0, 1]), T=1.0,
                                  alpha=0.5)
    np.testing.assert_array_equal(_stratification_labels(targets), [0, 0, 1, 1])
    no_labels = DistillationTargets(teacher_logits=logits, y=None, classes=np.array([0, 1]), T=1.0, alpha=0.0)
    np.testing.assert_array_equal(_stratification_labels(no_labels), [1, 0, 1, 0])


class _InterruptAfter:
    """Raises KeyboardInterrupt (as Ctrl-C does) at the n-th forward pass in training mode."""

    calls = 0
    at = None


class InterruptibleNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.body = small_net()

    def forward(self, x):
        if self.training:
            _InterruptAfter.calls += 1
            if _InterruptAfter.calls == _InterruptAfter.at:
                raise KeyboardInterrupt
        return self.body(x)


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("distilled", [False, True])
def test_ctrl_c_stops_training_cleanly(data, early_stopping, distilled, monkeypatch):
    from skdistill import DistilledClassifier, TrainingInterruptedWarning

    from conftest import assert_unchanged, snapshot

    X, y = data
    X_before, y_before = X.copy(), y.copy()
    template, teacher = InterruptibleNet(), make_teacher_module()
    template_before, teacher_before = snapshot(template), snapshot(teacher)
    # 150 rows in batches of 50 (120 with early stopping): 3 steps an epoch; Ctrl-C in the 8th step,
    # in the third epoch, after two complete epochs.
    monkeypatch.setattr(_InterruptAfter, "calls", 0)
    monkeypatch.setattr(_InterruptAfter, "at", 8)
    student = TorchStudent(template, max_iter=50, batch_size=50, early_stopping=early_stopping, random_state=0)
    model = DistilledClassifier(teacher, student, alpha=0.5) if distilled else student
    with pytest.warns(TrainingInterruptedWarning, match="after 2 complete epoch"):
        model.fit(X, y)
    fitted = model.student_ if distilled else model
    assert fitted.n_iter_ == 2 and len(fitted.loss_curve_) == 2
    if early_stopping:
        assert len(fitted.validation_loss_curve_) == 2
    assert not fitted.module_.training
    proba = model.predict_proba(X)
    assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1)
    assert_unchanged(template, template_before)
    assert_unchanged(teacher, teacher_before)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


class _MakesFloat32State(torch.nn.Module):
    """Creates a float32 tensor in forward (as an RNN's initial state often is): no float64 forward."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(6, 3)

    def forward(self, x):
        return self.linear(x) @ torch.eye(3)  # a float32 matrix whatever x's dtype: no float64 matmul


def test_a_module_that_cannot_run_in_float64_predicts_in_its_own_dtype_with_a_warning(data):
    from skdistill.students._neural_base import Float64FallbackWarning

    X, y = data
    student = TorchStudent(_MakesFloat32State(), max_iter=2, random_state=0).fit(X, y)
    with pytest.warns(Float64FallbackWarning, match="predicts in its own dtype torch.float32"):
        proba = student.predict_proba(X)
    expected = torch.softmax(student.module_(torch.as_tensor(X)), dim=1).detach().numpy()
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-6)


def test_predictions_follow_every_change_to_the_trained_module(data):
    # A float64 copy cached per module went stale: after load_state_dict(assign=True) with recycled
    # tensor ids, writes through .data (which do not bump a tensor's version), or a swapped submodule.
    X, y = data
    student = MLPStudent(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X, y)

    def module_proba():
        with torch.no_grad():
            return torch.softmax(student.module_(torch.as_tensor(X, dtype=torch.float64).float()), dim=1).numpy()

    np.testing.assert_allclose(student.predict_proba(X), module_proba(), rtol=1e-5, atol=1e-6)
    first_linear = next(m for m in student.module_.modules() if isinstance(m, torch.nn.Linear))
    first_linear.weight.data.mul_(-2.0)  # no version bump
    np.testing.assert_allclose(student.predict_proba(X), module_proba(), rtol=1e-5, atol=1e-6)
    for _ in range(3):
        state = {k: torch.randn_like(v) for k, v in student.module_.state_dict().items()}
        student.module_.load_state_dict(state, assign=True)
        np.testing.assert_allclose(student.predict_proba(X), module_proba(), rtol=1e-5, atol=1e-6)
    calls = []
    student.module_.register_forward_hook(lambda module, inputs, output: calls.append(len(inputs[0])))
    student.predict_proba(X)
    assert calls == [len(X)]  # hooks registered on the module run at prediction
