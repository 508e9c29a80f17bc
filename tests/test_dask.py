"""Scaling out with Dask: grid search on a dask.distributed cluster, and dask-ml's Incremental on chunked arrays.

Skipped when the optional ``dask`` extra (dask, distributed, dask-ml) is not installed.
"""

import os

import joblib
import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import GridSearchCV

from skdistill import DistilledClassifier, MLPStudent

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers")

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
