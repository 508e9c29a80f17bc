"""Scaling out with Dask: grid search on a dask.distributed cluster, and dask-ml's Incremental on chunked arrays.

Skipped when the optional ``dask`` extra (dask, distributed, dask-ml) is not installed.
"""

import collections
import os
import pickle
import subprocess
import sys

import cloudpickle
import joblib
import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import GridSearchCV

from skdistill import DistilledClassifier, MLPStudent, TeacherEnsemble, TorchTeacher

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers")

from distributed.protocol.pickle import dumps as distributed_dumps  # noqa: E402

from skdistill.dask import teacher_on_workers  # noqa: E402

from test_cache import RowLoggingTeacher, rows_scored  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def client():
    """A local cluster of 2 worker processes (1 thread each), shared by the tests of this module."""
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture
def id_data():
    """(X, y) whose column 0 is the row id, so a logging teacher can tell which rows it scored."""
    X, y = make_classification(n_samples=300, n_features=5, n_informative=4, n_redundant=0, random_state=0)
    return np.column_stack([np.arange(len(X)), X]).astype(np.float32), y


GRID = {"T": [1.0, 4.0], "alpha": [0.0, 0.5]}


class PidLoggingTeacher(RowLoggingTeacher):
    """A RowLoggingTeacher that also records the process that scored each batch."""

    def forward(self, x):
        with open(self.log_path + ".pids", "a") as pids:
            pids.write(f"{os.getpid()}\n")
        return super().forward(x)


def logging_teacher(log_path):
    torch.manual_seed(0)
    return PidLoggingTeacher(6, 2, log_path)


def small_student():
    return MLPStudent(hidden_layer_sizes=(4,), max_iter=3, random_state=0)


def test_grid_search_runs_on_the_workers_and_shares_teacher_outputs_through_memory(client, id_data, tmp_path):
    X, y = id_data
    teacher = logging_teacher(tmp_path / "cluster.log")
    distiller = DistilledClassifier(teacher, small_student(), memory=str(tmp_path / "cache"))
    with joblib.parallel_backend("dask"):
        on_cluster = GridSearchCV(distiller, GRID, cv=5).fit(X, y)

    # The candidates ran in the worker processes (the refit runs here).
    worker_pids = set(client.run(os.getpid).values())
    with open(teacher.log_path + ".pids") as pids:
        scoring_pids = {int(line) for line in pids}
    assert scoring_pids & worker_pids
    # Each training row is scored at most once per fold (the workers share the on-disk cache) + the refit.
    assert rows_scored(teacher.log_path, len(X)).max() <= 5 + 1
    # The same results as a local, uncached search.
    local_teacher = logging_teacher(tmp_path / "local.log")
    local = GridSearchCV(DistilledClassifier(local_teacher, small_student(), memory=False), GRID, cv=5).fit(X, y)
    np.testing.assert_array_equal(on_cluster.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])
    assert on_cluster.best_params_ == local.best_params_


@pytest.fixture
def streaming_data():
    X, y = make_classification(
        n_samples=1200, n_features=6, n_informative=4, n_redundant=0, n_classes=3, random_state=0
    )
    X = X.astype(np.float32)
    teacher = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    return X, y, teacher


def test_incremental_distils_a_chunked_dask_array_block_by_block(client, streaming_data):
    X, y, teacher = streaming_data
    X_dask, y_dask = da.from_array(X, chunks=(200, 6)), da.from_array(y, chunks=200)
    distiller = DistilledClassifier(teacher, SGDClassifier(loss="log_loss", random_state=0), T=2.0)
    incremental = dask_ml_wrappers.Incremental(distiller, scoring="accuracy", shuffle_blocks=False).fit(
        X_dask, y_dask, classes=[0, 1, 2]
    )

    # The same as partial_fit over the same blocks, in order, in this process.
    local = DistilledClassifier(teacher, SGDClassifier(loss="log_loss", random_state=0), T=2.0)
    for start in range(0, len(X), 200):
        local.partial_fit(X[start : start + 200], y[start : start + 200], classes=[0, 1, 2])
    np.testing.assert_allclose(incremental.estimator_.student_.coef_, local.student_.coef_, rtol=1e-10)
    # Prediction on a dask array runs block-wise on the workers and matches the local model.
    predicted = incremental.predict(X_dask)
    assert isinstance(predicted, da.Array)
    np.testing.assert_array_equal(predicted.compute(), local.predict(X))


def test_incremental_with_a_neural_student(client, streaming_data):
    X, y, teacher = streaming_data
    X_dask, y_dask = da.from_array(X, chunks=(300, 6)), da.from_array(y, chunks=300)
    student = MLPStudent(hidden_layer_sizes=(16,), learning_rate_init=0.01, random_state=0)
    incremental = dask_ml_wrappers.Incremental(DistilledClassifier(teacher, student, T=2.0), shuffle_blocks=False)
    incremental.fit(X_dask, y_dask, classes=[0, 1, 2])
    assert incremental.estimator_.student_.n_iter_ == 4  # one epoch per block
    local = DistilledClassifier(teacher, student, T=2.0)
    for start in range(0, len(X), 300):
        local.partial_fit(X[start : start + 300], y[start : start + 300], classes=[0, 1, 2])
    np.testing.assert_allclose(incremental.predict_proba(X_dask).compute(), local.predict_proba(X), rtol=1e-5)


# --- A trained teacher sent to each worker once (skdistill.dask.teacher_on_workers) ---------------------


class UnpickleCountingForest(RandomForestClassifier):
    """A forest that appends the id of every process that unpickles it to the file ``pid_log``."""

    def __setstate__(self, state):
        super().__setstate__(state)
        with open(state["pid_log"], "a") as log:
            log.write(f"{os.getpid()}\n")


def counting_forest(X, y, pid_log):
    forest = UnpickleCountingForest(n_estimators=10, max_depth=4, random_state=0).fit(X, y)
    forest.pid_log = str(pid_log)  # set after fit: read back from the pickled state
    return forest


def unpickles_by_process(pid_log):
    if not os.path.exists(pid_log):
        return {}
    with open(pid_log) as log:
        return collections.Counter(int(line) for line in log)


def test_teacher_on_workers_unpickles_the_teacher_once_per_worker(client, tmp_path):
    X, y = make_classification(n_samples=240, n_features=6, n_informative=4, n_redundant=0, random_state=0)
    teacher = counting_forest(X, y, tmp_path / "pids")
    distiller = DistilledClassifier(teacher, LogisticRegression(max_iter=200), memory=str(tmp_path / "cache"))
    grid = {"T": [1.0, 2.0, 4.0, 8.0], "alpha": [0.0, 0.5]}  # 8 candidates x 3 folds = 24 tasks

    with teacher_on_workers(teacher), joblib.parallel_backend("dask"):
        on_cluster = GridSearchCV(distiller, grid, cv=3).fit(X, y)

    worker_pids = set(client.run(os.getpid).values())
    unpickled = unpickles_by_process(teacher.pid_log)
    # Once per worker, when the block starts; never in this process (the scheduler and the refit use the
    # original); without the block, the scheduler and the workers unpickle it for every task (see the benchmark).
    assert set(unpickled) == worker_pids
    assert max(unpickled.values()) == 1
    # The workers dropped it when the block ended.
    assert not any(client.run(_holds_a_teacher).values())
    # The same results as a local search.
    local = GridSearchCV(DistilledClassifier(teacher, LogisticRegression(max_iter=200), memory=False), grid, cv=3)
    local.fit(X, y)
    np.testing.assert_array_equal(on_cluster.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])
    assert on_cluster.best_params_ == local.best_params_
    assert on_cluster.best_estimator_.teacher is teacher


def _holds_a_teacher():
    from skdistill import _on_workers

    return bool(_on_workers._HELD)


def _fitted_on_a_worker(distiller, X, y):
    return distiller.fit(X, y)


@pytest.mark.parametrize(
    "wrap",
    [
        lambda module: module,
        TorchTeacher,
        lambda module: [module, module],
        lambda module: TeacherEnsemble([("a", module), ("b", TorchTeacher(module))]),
    ],
    ids=["module", "TorchTeacher", "list", "TeacherEnsemble"],
)
def test_distillers_travel_with_a_reference_inside_the_block_and_whole_outside(client, id_data, wrap):
    X, y = id_data
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(6, 256), torch.nn.ReLU(), torch.nn.Linear(256, 2))  # 8 kB
    teacher = wrap(module)
    distiller = DistilledClassifier(teacher, small_student())
    fitted_here = clone(distiller).fit(X, y)

    with teacher_on_workers(teacher):
        # distributed's own pickling carries a reference, unfitted or fitted; the user's pickles the teacher.
        for estimator in (distiller, clone(distiller), fitted_here):
            assert len(distributed_dumps(estimator)) < len(pickle.dumps(estimator)) - 6000
        # A task's result comes back with the client's own teacher, and the same model as a local fit.
        fitted_there = client.submit(_fitted_on_a_worker, clone(distiller), X, y).result()
    assert _modules_of(fitted_there.teacher) == [module] * len(_modules_of(teacher))
    assert fitted_there.teacher_.predict_proba(X[:5]) is not None
    np.testing.assert_array_equal(fitted_there.predict_proba(X), fitted_here.predict_proba(X))
    # After the block, distributed's pickling carries the teacher again.
    assert len(distributed_dumps(distiller)) > len(pickle.dumps(distiller)) - 1000


def _modules_of(teacher):
    members = teacher if isinstance(teacher, list) else [teacher]
    if isinstance(teacher, TeacherEnsemble):
        members = [member for _, member in teacher.teachers]
    return [getattr(member, "module", member) for member in members]


def test_pickles_made_inside_the_block_load_without_the_cluster(client, id_data, tmp_path):
    X, y = id_data
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    distiller = DistilledClassifier(forest, small_student())
    with teacher_on_workers(forest), joblib.parallel_backend("dask"):
        search = GridSearchCV(distiller, {"T": [1.0, 4.0]}, cv=2).fit(X, y)
        # Every way a user saves a model, inside the block, while the client exists.
        (tmp_path / "unfitted.pkl").write_bytes(pickle.dumps(distiller))
        (tmp_path / "fitted.pkl").write_bytes(pickle.dumps(search.best_estimator_))
        (tmp_path / "cloudpickled.pkl").write_bytes(cloudpickle.dumps(search.best_estimator_))
        joblib.dump(search.best_estimator_, tmp_path / "joblib.pkl")
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "expected.npy", search.best_estimator_.predict_proba(X))
    # A fresh process, no cluster: each file loads, predicts as the original and refits from its own teacher.
    script = f"""
import pickle, joblib, numpy as np
from sklearn.base import clone
X, expected = np.load({str(tmp_path / "X.npy")!r}), np.load({str(tmp_path / "expected.npy")!r})
for name in ["fitted.pkl", "cloudpickled.pkl"]:
    np.testing.assert_array_equal(pickle.load(open({str(tmp_path)!r} + "/" + name, "rb")).predict_proba(X), expected)
np.testing.assert_array_equal(joblib.load({str(tmp_path / "joblib.pkl")!r}).predict_proba(X), expected)
unfitted = pickle.load(open({str(tmp_path / "unfitted.pkl")!r}, "rb"))
assert type(unfitted.teacher).__name__ == "RandomForestClassifier"
clone(unfitted).fit(X, expected.argmax(1))
print("ok")
"""
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "ok"


def test_a_reference_used_where_the_teacher_is_not_held_says_so(client, id_data):
    X, y = id_data
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    distiller = DistilledClassifier(forest, small_student())
    with teacher_on_workers(forest):
        sent = distributed_dumps(distiller)
    received = pickle.loads(sent)  # after the block: this process no longer holds the teacher
    with pytest.raises(RuntimeError, match="teacher_on_workers.*does not hold it"):
        received.fit(X, y)
    assert len(distributed_dumps(received)) < 2000  # forwarded as the reference (what a scheduler does)


def test_teacher_on_workers_refuses_an_unfitted_teacher(client):
    with pytest.raises(ValueError, match="needs a trained teacher.*fitted in each task"):
        with teacher_on_workers(RandomForestClassifier()):
            pass


def test_incremental_inside_the_block(client, streaming_data):
    X, y, teacher = streaming_data
    X_dask, y_dask = da.from_array(X, chunks=(200, 6)), da.from_array(y, chunks=200)
    distiller = DistilledClassifier(teacher, SGDClassifier(loss="log_loss", random_state=0), T=2.0)
    with teacher_on_workers(teacher):
        incremental = dask_ml_wrappers.Incremental(distiller, shuffle_blocks=False)
        incremental.fit(X_dask, y_dask, classes=[0, 1, 2])
    local = DistilledClassifier(teacher, SGDClassifier(loss="log_loss", random_state=0), T=2.0)
    for start in range(0, len(X), 200):
        local.partial_fit(X[start : start + 200], y[start : start + 200], classes=[0, 1, 2])
    np.testing.assert_allclose(incremental.estimator_.student_.coef_, local.student_.coef_, rtol=1e-10)
    assert incremental.estimator_.teacher is teacher
