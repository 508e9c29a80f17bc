"""Devices: teacher and student each on their own device; GPU-trained models unpickle on a CPU-only machine.

This machine has no GPU, so a GPU pickle is simulated: the estimators' torch state is recorded as on
``cuda:0`` while saving, as a CUDA machine records it, and loading then happens here, without CUDA.
Tests that need a real GPU are skipped when there is none.
"""

import pickle

import numpy as np
import pytest
import torch

import skdistill._portable
from conftest import CountingModule, make_teacher_module
from skdistill import DistilledClassifier, MLPStudent, TorchStudent, TorchTeacher

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def student(**params):
    return MLPStudent(**{"hidden_layer_sizes": (8,), "max_iter": 20, "random_state": 0, **params})


@pytest.fixture
def pickled_as_on_a_gpu(monkeypatch):
    """``dumps(obj)`` as a CUDA machine would write it: the estimators' torch state recorded as on cuda:0.

    (Tensors are stored as numpy arrays with their device, see skdistill._portable; a record of a
    device this machine lacks loading on the CPU is tested in tests/test_persistence.py.)"""

    def dumps(obj):
        def as_if_on_gpu(state):
            return {torch.device("cuda:0")} if skdistill._portable._torch_attributes(state) else set()

        with monkeypatch.context() as patch:
            patch.setattr(skdistill._portable, "off_cpu_devices", as_if_on_gpu)
            return pickle.dumps(obj)

    return dumps


def test_a_student_trained_on_a_gpu_unpickles_on_the_cpu(pickled_as_on_a_gpu, data):
    X, y = data
    fitted = student().fit(X, y)
    payload = pickled_as_on_a_gpu(fitted)
    with pytest.warns(UserWarning, match="pickled with tensors on cuda:0, which this machine does not have"):
        loaded = pickle.loads(payload)
    assert next(loaded.module_.parameters()).device.type == "cpu"
    np.testing.assert_array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    loaded.partial_fit(X, y)
    assert loaded.n_iter_ == fitted.n_iter_ + 1


def test_a_streamed_student_from_a_gpu_keeps_its_optimizer_on_its_parameters(pickled_as_on_a_gpu, data):
    X, y = data
    streamed = student().partial_fit(X, y, classes=[0, 1, 2])
    with pytest.warns(UserWarning, match="cuda:0"):
        loaded = pickle.loads(pickled_as_on_a_gpu(streamed))
    # One payload for module and optimizer: the optimizer still drives the module's own parameters.
    assert loaded._optimizer.param_groups[0]["params"][0] is next(loaded.module_.parameters())
    assert loaded._optimizer.state  # Adam's moments came along
    loaded.partial_fit(X, y)
    assert loaded.n_iter_ == 2


@pytest.mark.parametrize("wrap", [False, True], ids=["module", "TorchTeacher"])
def test_a_distiller_trained_on_a_gpu_unpickles_on_the_cpu_with_one_teacher(pickled_as_on_a_gpu, data, wrap):
    X, y = data
    teacher = TorchTeacher(make_teacher_module()) if wrap else make_teacher_module()
    clf = DistilledClassifier(teacher, student()).fit(X, y)
    with pytest.warns(UserWarning, match="cuda:0"):
        loaded = pickle.loads(pickled_as_on_a_gpu(clf))
    # One teacher, not two copies.
    assert (loaded.teacher.module if wrap else loaded.teacher) is loaded.teacher_.module
    assert clf.teacher is teacher  # pickling left the original alone
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_allclose(loaded.teacher_proba(X), clf.teacher_proba(X))


def test_models_on_the_cpu_pickle_as_usual(data):
    X, y = data
    clf = DistilledClassifier(make_teacher_module(), student()).fit(X, y)
    for obj in (clf, clf.student_, clf.teacher_):
        assert "_torch_payload" not in obj.__getstate__()
    loaded = pickle.loads(pickle.dumps(clf))
    assert loaded.teacher is loaded.teacher_.module
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("device", ["auto", "cpu", torch.device("cpu")])
def test_teacher_and_student_take_their_own_device(data, device):
    X, y = data
    counting = CountingModule(make_teacher_module())
    clf = DistilledClassifier(TorchTeacher(counting, device=device), student(device=device)).fit(X, y)
    assert counting.rows_scored == len(X)
    assert next(clf.student_.module_.parameters()).device == torch.device("cpu")
    assert next(counting.parameters()).device == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error where CUDA is missing")
def test_asking_for_a_missing_gpu_fails_before_any_work(data):
    X, y = data
    counting = CountingModule(make_teacher_module())
    with pytest.raises(ValueError, match="device='cuda' asks for CUDA, but CUDA is not available"):
        DistilledClassifier(counting, student(device="cuda")).fit(X, y)
    assert counting.rows_scored == 0  # the student's device is checked before the teacher runs
    with pytest.raises(ValueError, match="device='cuda' asks for CUDA, but CUDA is not available"):
        DistilledClassifier(TorchTeacher(counting, device="cuda"), student()).fit(X, y)
    assert counting.rows_scored == 0


def _available(device):
    try:
        torch.empty(0, device=device)
    except Exception:
        return False
    return True


@pytest.mark.parametrize("device", ["mps", "xpu", "cuda:7"])
@pytest.mark.parametrize("fit", ["fit", "partial_fit"])
def test_a_missing_accelerator_is_refused_before_any_work(data, device, fit):
    # torch names a missing MPS or XPU only when a tensor moves there: a RuntimeError or an
    # AssertionError once the teacher had run. Every device is now tried before the teacher runs.
    if _available(device):
        pytest.skip(f"{device} is available here")
    X, y = data
    counting = CountingModule(make_teacher_module())
    match = f"device='{device}' asks for .*not available here"
    with pytest.raises(ValueError, match=match):
        getattr(DistilledClassifier(counting, student(device=device)), fit)(X, y, **_classes(fit, y))
    with pytest.raises(ValueError, match=match):
        getattr(DistilledClassifier(TorchTeacher(counting, device=device), student()), fit)(X, y, **_classes(fit, y))
    assert counting.rows_scored == 0


def _classes(fit, y):
    return {"classes": np.unique(y)} if fit == "partial_fit" else {}


@pytest.mark.parametrize("device", ["gpu", 3.5])
def test_a_device_torch_does_not_know_is_refused(data, device):
    X, y = data
    with pytest.raises((ValueError, TypeError), match="device"):
        DistilledClassifier(make_teacher_module(), student(device=device)).fit(X, y)


@needs_cuda
def test_teacher_on_the_gpu_student_on_the_cpu_and_back(data):
    X, y = data
    teacher = make_teacher_module()
    clf = DistilledClassifier(TorchTeacher(teacher, device="cuda"), student(device="cpu")).fit(X, y)
    assert next(teacher.parameters()).device.type == "cpu"  # moved for the pass, then back
    assert next(clf.student_.module_.parameters()).device.type == "cpu"


@needs_cuda
def test_a_real_gpu_model_unpickles_without_cuda(data, monkeypatch):
    X, y = data
    clf = DistilledClassifier(make_teacher_module().cuda(), TorchStudent(torch.nn.Linear(6, 3), device="cuda"))
    clf.fit(X, y)
    payload = pickle.dumps(clf)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="cuda"):
        loaded = pickle.loads(payload)
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), rtol=1e-5)
