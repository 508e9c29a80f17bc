"""Persistence: every fitted estimator round-trips through skops.io, trusting only its own types, and pickle.

Torch state travels as numpy arrays plus the module's architecture, so skops can store it and list,
as untrusted, exactly skdistill's types, the torch module (and optimizer) classes and the user's own
module classes. Loaded models predict identically and keep working (``partial_fit``, ``fidelity``).
"""

import copy
import pathlib
import pickle
import re
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier

import skdistill
import skdistill._portable
from conftest import N_CLASSES, N_FEATURES, make_teacher_module
from skdistill import DistilledClassifier, MLPStudent, RegressorStudent, TorchStudent, TorchTeacher


class SmallNet(torch.nn.Module):
    """A student module of the test's own class, with a buffer: its class must be listed as untrusted."""

    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(N_FEATURES, 8)
        self.out = torch.nn.Linear(8, N_CLASSES)
        self.register_buffer("scale", torch.tensor(2.0))

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x))) * self.scale


class TiedNet(torch.nn.Module):
    """Two layers sharing one weight matrix."""

    def __init__(self):
        super().__init__()
        self.first = torch.nn.Linear(N_FEATURES, N_FEATURES)
        self.second = torch.nn.Linear(N_FEATURES, N_FEATURES)
        self.second.weight = self.first.weight
        self.head = torch.nn.Linear(N_FEATURES, N_CLASSES)

    def forward(self, x):
        return self.head(self.second(torch.relu(self.first(x))))


def own(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


# The untrusted types skops lists, by part of the model.
PORTABLE = {"skdistill._portable._TorchObjects", "skdistill._portable._TensorRecord"}
SEQUENTIAL = {  # make_teacher_module() and MLPStudent's module
    "torch.nn.modules.container.Sequential",
    "torch.nn.modules.linear.Linear",
    "torch.nn.modules.activation.ReLU",
}
SMALL_NET = {own(SmallNet), "torch.nn.modules.linear.Linear"}
DISTILLER = {own(DistilledClassifier)}
TORCH_TEACHER = {own(TorchTeacher)}
SKLEARN_TEACHER = {"skdistill.teachers.SklearnTeacher"}
MLP = {own(MLPStudent)}
TORCH_STUDENT = {own(TorchStudent)}
ADAM = {"torch.optim.adam.Adam"}
TREE = {"sklearn.tree._tree.Tree"}  # skops never trusts a Tree by default (its nodes are raw memory)


def mlp(**params):
    return MLPStudent(**{"hidden_layer_sizes": (8,), "max_iter": 5, "random_state": 0, **params})


def torch_student(**params):
    return TorchStudent(SmallNet(), **{"max_iter": 5, "random_state": 0, **params})


def streamed_mlp(X, y):
    return mlp().partial_fit(X, y, classes=[0, 1, 2])


# name: (build a fitted estimator from X, y; the untrusted types skops must list for it)
CASES = {
    "distiller-module-teacher-mlp": (
        lambda X, y: DistilledClassifier(make_teacher_module(), mlp()).fit(X, y),
        DISTILLER | TORCH_TEACHER | MLP | PORTABLE | SEQUENTIAL,
    ),
    "distiller-torchteacher-torchstudent": (
        lambda X, y: DistilledClassifier(TorchTeacher(make_teacher_module()), torch_student()).fit(X, y),
        DISTILLER | TORCH_TEACHER | TORCH_STUDENT | PORTABLE | SEQUENTIAL | SMALL_NET,
    ),
    "distiller-bare-module-student": (
        lambda X, y: DistilledClassifier(make_teacher_module(), SmallNet()).fit(X, y),
        DISTILLER | TORCH_TEACHER | TORCH_STUDENT | PORTABLE | SEQUENTIAL | SMALL_NET,
    ),
    "distiller-logistic-student": (
        lambda X, y: DistilledClassifier(make_teacher_module(), LogisticRegression()).fit(X, y),
        DISTILLER | TORCH_TEACHER | PORTABLE | SEQUENTIAL,
    ),
    "distiller-tree-student": (
        lambda X, y: DistilledClassifier(TorchTeacher(make_teacher_module()), DecisionTreeClassifier(max_depth=3)).fit(
            X, y
        ),
        DISTILLER | TORCH_TEACHER | PORTABLE | SEQUENTIAL | TREE,
    ),
    "distiller-regressor-student": (
        lambda X, y: DistilledClassifier(make_teacher_module(), Ridge()).fit(X, y),
        DISTILLER | TORCH_TEACHER | {own(RegressorStudent)} | PORTABLE | SEQUENTIAL,
    ),
    "distiller-sklearn-teacher-mlp": (
        lambda X, y: DistilledClassifier(LogisticRegression(), mlp()).fit(X, y),
        DISTILLER | SKLEARN_TEACHER | MLP | PORTABLE | SEQUENTIAL,
    ),
    "distiller-streamed": (
        lambda X, y: DistilledClassifier(make_teacher_module(), mlp()).partial_fit(X, y, classes=[0, 1, 2]),
        DISTILLER | TORCH_TEACHER | MLP | PORTABLE | SEQUENTIAL | ADAM,
    ),
    "mlp": (lambda X, y: mlp().fit(X, y), MLP | PORTABLE | SEQUENTIAL),
    "mlp-streamed": (streamed_mlp, MLP | PORTABLE | SEQUENTIAL | ADAM),
    "torch-student": (lambda X, y: torch_student().fit(X, y), TORCH_STUDENT | PORTABLE | SMALL_NET),
    "torch-teacher": (
        lambda X, y: TorchTeacher(make_teacher_module()).fit(X, y),
        TORCH_TEACHER | PORTABLE | SEQUENTIAL,
    ),
    "regressor-student": (lambda X, y: RegressorStudent(Ridge()).fit(X, y), {own(RegressorStudent)}),
}


@pytest.fixture
def sio():
    return pytest.importorskip("skops.io")


def fitted(name, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return CASES[name][0](X, y)


def skops_round_trip(sio, estimator):
    """``estimator`` saved and loaded by skops, trusting what skops lists; and that list."""
    data = sio.dumps(estimator)
    untrusted = sio.get_untrusted_types(data=data)
    return sio.loads(data, trusted=untrusted), untrusted


def round_trip(estimator, save_load):
    """``estimator`` saved and loaded by ``save_load``: "skops" (skipped without skops) or "pickle"."""
    if save_load == "pickle":
        return pickle.loads(pickle.dumps(estimator))
    return skops_round_trip(pytest.importorskip("skops.io"), estimator)[0]


def assert_same_predictions(loaded, original, X):
    np.testing.assert_array_equal(loaded.predict(X), original.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), original.predict_proba(X))


def assert_still_usable(loaded, original, X, y):
    if isinstance(original, DistilledClassifier):
        assert loaded.fidelity(X) == original.fidelity(X)
        np.testing.assert_array_equal(loaded.teacher_proba(X), original.teacher_proba(X))
    if hasattr(original, "module_"):  # a neural student trains on
        n_iter = loaded.n_iter_
        loaded.partial_fit(X, y)
        assert loaded.n_iter_ == n_iter + 1
    if isinstance(original, DistilledClassifier) and hasattr(original, "partial_fit"):  # a trained teacher
        loaded.partial_fit(X, y)


@pytest.mark.parametrize("name", CASES)
def test_skops_round_trip_lists_only_our_types_and_predicts_identically(sio, data, name):
    X, y = data
    original = fitted(name, X, y)
    loaded, untrusted = skops_round_trip(sio, original)
    assert sorted(untrusted) == sorted(CASES[name][1])
    assert_same_predictions(loaded, original, X)
    assert_still_usable(loaded, original, X, y)


@pytest.mark.parametrize("name", CASES)
def test_pickle_round_trip_still_works(data, name):
    X, y = data
    original = fitted(name, X, y)
    loaded = pickle.loads(pickle.dumps(original))
    assert_same_predictions(loaded, original, X)
    assert_still_usable(loaded, original, X, y)


def test_skops_refuses_the_types_until_trusted(sio, data):
    X, y = data
    data_bytes = sio.dumps(mlp().fit(X, y))
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.loads(data_bytes)


@pytest.mark.parametrize("save_load", ["skops", "pickle"])
def test_a_stream_continues_exactly_after_loading(data, save_load):
    """The optimizer's moments and the seed stream travel with a streamed student."""
    X, y = data
    streamed = streamed_mlp(X, y)
    loaded = round_trip(streamed, save_load)
    # The optimizer drives the loaded module's own parameters, with Adam's moments.
    assert [p for group in loaded._optimizer.param_groups for p in group["params"]] == list(
        loaded.module_.parameters()
    )
    assert all(
        a is b for a, b in zip(loaded._optimizer.param_groups[0]["params"], loaded.module_.parameters(), strict=True)
    )
    assert len(loaded._optimizer.state) == len(list(loaded.module_.parameters()))
    for chunk in (slice(0, 75), slice(75, 150)):
        streamed.partial_fit(X[chunk], y[chunk])
        loaded.partial_fit(X[chunk], y[chunk])
    np.testing.assert_array_equal(loaded.predict_proba(X), streamed.predict_proba(X))


@pytest.mark.parametrize("wrap", [False, True], ids=["module", "TorchTeacher"])
def test_skops_loads_a_shared_teacher_as_one_module(sio, data, wrap):
    X, y = data
    teacher = TorchTeacher(make_teacher_module()) if wrap else make_teacher_module()
    clf = DistilledClassifier(teacher, mlp()).fit(X, y)
    loaded, _ = skops_round_trip(sio, clf)
    assert (loaded.teacher.module if wrap else loaded.teacher) is loaded.teacher_.module
    assert clf.teacher is teacher  # saving left the original alone
    assert clf.teacher_.module is (teacher.module if wrap else teacher)


def flagged_module():
    """A float64 module in training mode, one layer frozen and in eval mode."""
    module = make_teacher_module().double()
    module.train()
    module[0].requires_grad_(False)
    module[0].eval()
    return module


def flags(module):
    return (
        [(name, p.dtype, p.requires_grad, type(p)) for name, p in module.named_parameters()],
        [(name, b.dtype, b.requires_grad) for name, b in module.named_buffers()],
        [(name, m.training) for name, m in module.named_modules()],
    )


@pytest.mark.parametrize("save_load", ["skops", "pickle"])
def test_dtype_requires_grad_and_training_flags_round_trip(data, save_load):
    X, _ = data
    teacher = TorchTeacher(flagged_module()).fit(X)
    before = flags(teacher.module)
    loaded = round_trip(teacher, save_load)
    assert flags(loaded.module) == before
    assert flags(teacher.module) == before  # the original is untouched
    np.testing.assert_array_equal(loaded.logits(X), teacher.logits(X))
    assert loaded.logits(X).dtype == np.float64


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("save_load", ["skops", "pickle"])
def test_half_and_bfloat16_modules_round_trip_exactly(data, dtype, save_load):
    X, _ = data
    teacher = TorchTeacher(make_teacher_module().to(dtype)).fit(X)
    loaded = round_trip(teacher, save_load)
    for (name, a), (_, b) in zip(loaded.module.state_dict().items(), teacher.module.state_dict().items(), strict=True):
        assert a.dtype == dtype, name
        assert torch.equal(a, b), name


@pytest.mark.parametrize("save_load", ["skops", "pickle"])
def test_tied_weights_stay_tied(data, save_load):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        student = TorchStudent(TiedNet(), max_iter=3, random_state=0).fit(X, y)
    loaded = round_trip(student, save_load)
    assert loaded.module_.second.weight is loaded.module_.first.weight
    assert_same_predictions(loaded, student, X)


def test_a_dtype_numpy_lacks_is_refused_clearly():
    with pytest.raises(TypeError, match="cannot be stored: numpy has no such type"):
        pickle.dumps(TorchTeacher(torch.nn.Linear(2, 2).to(torch.float8_e4m3fn)))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the fallback where CUDA is missing")
def test_a_tensor_from_a_missing_device_loads_on_the_cpu():
    record = skdistill._portable._TensorRecord(torch.nn.Parameter(torch.arange(3.0)))
    record.device = "cuda:0"  # as a GPU machine records it
    tensor = record.tensor()
    assert tensor.device.type == "cpu"
    assert isinstance(tensor, torch.nn.Parameter) and tensor.requires_grad
    assert torch.equal(tensor, torch.arange(3.0))


def test_copies_do_not_go_through_numpy(data):
    """A shallow copy (as clone makes of a shared teacher) shares the modules; a deep copy copies them."""
    X, y = data
    teacher = make_teacher_module()
    clf = DistilledClassifier(teacher, mlp()).fit(X, y)
    shallow = copy.copy(clf)
    assert shallow.teacher is teacher and shallow.teacher_ is clf.teacher_
    assert copy.copy(clf.student_).module_ is clf.student_.module_
    deep = copy.deepcopy(clf)
    assert deep.teacher is deep.teacher_.module and deep.teacher is not teacher
    assert deep.student_.module_ is not clf.student_.module_
    assert_same_predictions(deep, clf, X)


def test_no_torch_load_without_weights_only():
    """Loading never unpickles arbitrary objects through torch.load."""
    package = pathlib.Path(skdistill.__file__).parent
    for path in package.rglob("*.py"):
        source = path.read_text()
        assert "weights_only=False" not in source, path
        for call in re.findall(r"torch\.load\([^)]*\)", source):
            assert "weights_only=True" in call, (path, call)


@pytest.mark.parametrize("compiled", ["teacher", "student"])
def test_a_compiled_module_round_trips_as_the_module_it_compiles(sio, data, compiled):
    # torch.compile's wrapper holds the compiler's state: skops loaded it with an error, and its
    # untrusted types listed torch._dynamo internals. backend="eager" needs no C compiler.
    X, y = data
    torch.manual_seed(0)
    teacher, student_module = make_teacher_module(), torch.nn.Linear(N_FEATURES, N_CLASSES)
    if compiled == "teacher":
        teacher = torch.compile(teacher, backend="eager")
    else:
        student_module = torch.compile(student_module, backend="eager")
    original = DistilledClassifier(teacher, TorchStudent(student_module, max_iter=2, random_state=0)).fit(X, y)
    loaded, untrusted = skops_round_trip(sio, original)
    assert not [name for name in untrusted if "_dynamo" in name or "OptimizedModule" in name]
    assert_same_predictions(loaded, original, X)
    assert len(pickle.dumps(original)) < 100_000
