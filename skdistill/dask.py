"""Dask: a trained teacher sent to each worker once, not with every task.

Under ``joblib.parallel_backend("dask")``, ``GridSearchCV`` sends each (candidate, fold) task a
clone of the distiller. The clones share the trained teacher, but each task's pickle is made on its
own, so it carries the whole teacher: a 17 MB network travels 80 times in a 4 x 4 x 5 search, the
scheduler unpickles it for every task it receives and the worker for every task it runs.
:func:`teacher_on_workers` sends it once per worker instead.

How it works
------------
- The client pickles the teacher once (with cloudpickle, so that a class defined in ``__main__``
  travels too) and registers a worker plugin holding those bytes. The scheduler stores the bytes
  without unpickling them; each worker, now and joining later, unpickles them once, when the plugin
  is set up, and holds the teacher under the digest of the bytes.
- While the block runs, a distiller that distributed pickles (``distributed.protocol.pickle.dumps``:
  task arguments, the scheduler's copies of them, results, spilled data) carries a reference of a few
  dozen bytes in place of the teacher, and the process that unpickles it puts its own copy back: the
  worker's, or the client's original.
- Every other pickle is made as before and is self-contained: ``pickle.dumps``, ``joblib.dump``, skops
  and loky's cloudpickle (``n_jobs=2`` without Dask), also inside the block and also while a client
  exists. Only distributed's own pickling, on the thread that runs it, carries references.
- When the block ends, the plugin is unregistered and every worker drops its copy.

The options weighed, and why this one
-------------------------------------
- *distributed's serialization families* (``dask_serialize`` / ``register_serialization_family``)
  apply to the objects distributed serializes itself (top-level data, ``to_serialize``). Task
  arguments are pickled with the standard pickle; its ``reducer_override``, which would reach
  nested objects, is used only when the standard pickle fails. A distiller nested in joblib's batch
  is never seen by them.
- *joblib's scattering* scatters top-level arguments larger than 1 kB, found by identity; the
  distiller is a new clone in every task and ``dask.sizeof`` of an estimator is about 50 bytes.
  ``parallel_backend("dask", scatter=[teacher])`` does not help either: the teacher is not an
  argument, it is inside one.
- *Scattering the teacher* (``client.scatter(teacher, broadcast=True, hash=True)``) and resolving
  a reference from the worker's data: the key is not a dependency of the tasks, so the scheduler's
  active memory manager may drop the extra replicas, and a worker joining later never gets one;
  fetching it from inside unpickling would block the worker's event loop.
- *A worker plugin* (chosen) is installed on every worker, including those that join later, before
  they run a task; its bytes stay on the scheduler, which needs neither torch nor the teacher's library
  to keep them.
- *Fully automatic* (registering the plugin the first time a distiller is pickled for a task) was
  rejected: pickling for a task runs inside the client's event loop, where registering a plugin
  cannot wait for the workers, and nothing would say when the cluster may drop the teacher. The
  block says both: from when, and until when.
- *Telling distributed's pickling apart* from the user's: pickle gives a ``__getstate__`` no way to
  know which pickler called it, so the reference is used only on a thread whose stack holds
  ``distributed.protocol.pickle.dumps`` (found by its code object). If a future distributed renames
  it, teachers travel with every task again (as without the block), never as a dangling reference.
"""

import collections
import contextlib
import hashlib

import cloudpickle
import distributed
import torch
from distributed.diagnostics.plugin import WorkerPlugin

from . import _on_workers
from ._ensemble import TeacherEnsemble
from .teachers import SklearnTeacher, TorchTeacher, is_trained

__all__ = ["teacher_on_workers"]


@contextlib.contextmanager
def teacher_on_workers(teacher, client=None):
    """Send a trained teacher to each Dask worker once, for the fits run inside the block.

    Inside the block, tasks that distributed sends (``GridSearchCV`` under
    ``joblib.parallel_backend("dask")``, ``dask_ml.wrappers.Incremental``, ``client.submit``) carry a
    reference to the teacher instead of the teacher, and each worker unpickles the teacher once, when
    the block starts (or when it joins). Results are the same as without the block. Pickles made
    otherwise (``pickle.dumps``, ``joblib.dump``, skops, loky) stay self-contained, inside the block
    too. See :mod:`skdistill.dask` for how it works and the alternatives weighed.

    Parameters
    ----------
    teacher : torch.nn.Module, fitted estimator, TorchTeacher, SklearnTeacher, TeacherEnsemble or list
        The ``teacher`` of the distillers the block fits (the same object: it is recognised by
        identity). Its trained models are sent; unfitted members are not, since each task fits its own.
        It must not change inside the block: the workers hold the copy made when the block starts.
    client : distributed.Client, default=None
        The client whose cluster runs the fits; by default the current one
        (:func:`distributed.get_client`). Use one client inside the block: a distiller that the same
        process sends to another cluster would carry a reference that cluster cannot resolve.

    Yields
    ------
    None

    Raises
    ------
    ValueError
        If ``teacher`` holds no trained model: an unfitted teacher is cloned and fitted in each task,
        so there is nothing trained to send, and its pickle is only its parameters.

    Notes
    -----
    The workers hold the teacher from the start of the block to its end: one copy per worker process,
    used by all its threads. A torch module's copy is put in eval mode (the teacher always runs in eval
    mode, so its outputs do not change): threads then never see each other toggle its ``training``
    flags. With ``TorchTeacher(module, device=...)`` other than the module's own device, give each
    worker one thread: each fit moves the shared copy to the device and back. The scheduler holds the
    pickled bytes once.

    Objects that hold the teacher and stay on the cluster after the block (futures you keep) cannot be
    unpickled there afterwards; the error says so.

    Examples
    --------
    >>> import joblib
    >>> from distributed import Client, LocalCluster
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skdistill import DistilledClassifier
    >>> from skdistill.dask import teacher_on_workers
    >>> X, y = load_iris(return_X_y=True)
    >>> teacher = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    >>> distiller = DistilledClassifier(teacher, LogisticRegression(max_iter=500))
    >>> with LocalCluster(n_workers=2, processes=False, dashboard_address=None) as cluster, Client(cluster):
    ...     with teacher_on_workers(teacher), joblib.parallel_backend("dask"):
    ...         search = GridSearchCV(distiller, {"T": [1.0, 4.0]}, cv=3).fit(X, y)
    >>> sorted(search.best_params_)
    ['T']
    """
    models = _trained_models(teacher)
    if not models:
        raise ValueError(
            f"teacher_on_workers needs a trained teacher, but {type(teacher).__name__} holds no trained model: an "
            "unfitted teacher is cloned and fitted in each task, so there is nothing trained to send (and its pickle "
            "is only its parameters). Fit the teacher first, or run the search without teacher_on_workers."
        )
    client = distributed.get_client() if client is None else client
    held_keys, registered = [], []
    try:
        for model in models:
            payload = cloudpickle.dumps(model)
            key = hashlib.sha256(payload).hexdigest()[:32]
            # Held here first: a worker in this process (LocalCluster(processes=False)) then uses this very
            # object, and a scheduler running in this process resolves references to it.
            _on_workers.hold(key, model)
            held_keys.append(key)
            block = (id(client), f"skdistill-teacher-{key}")
            if _BLOCKS[block] == 0:  # an enclosing block on the same teacher registered it already
                client.register_plugin(_HeldTeacher(key, payload), name=block[1])
            _BLOCKS[block] += 1
            registered.append(block)
        yield
    finally:
        for key in held_keys:
            _on_workers.release(key)
        for block in registered:
            _BLOCKS[block] -= 1
            if _BLOCKS[block] == 0:
                del _BLOCKS[block]
                client.unregister_worker_plugin(block[1])


# (id(client), plugin name) -> number of open blocks that registered it.
_BLOCKS = collections.Counter()


def _trained_models(teacher):
    """The trained models ``teacher`` holds, each once, in order: what the tasks would carry."""
    if isinstance(teacher, list):
        members = teacher
    elif isinstance(teacher, TeacherEnsemble):
        members = [pair[1] for pair in teacher.teachers] if isinstance(teacher.teachers, list) else []
    else:
        members = [teacher]
    models = {}
    for member in members:
        inner = getattr(member, "module", None) if isinstance(member, TorchTeacher) else member
        if isinstance(member, SklearnTeacher):
            inner = member.estimator
        if isinstance(inner, (str, type(None))) or not is_trained(inner):
            continue  # "drop", or an unfitted model that each task clones and fits
        models.setdefault(id(inner), inner)
    return list(models.values())


class _HeldTeacher(WorkerPlugin):
    """A worker plugin holding a teacher's pickle; a worker unpickles it once, on setup, and holds it."""

    def __init__(self, key, payload):
        self.key = key
        self.payload = payload

    def setup(self, worker):
        if _on_workers.held(self.key):  # a worker in the client's process uses the client's teacher
            _on_workers.hold(self.key, None)
            return
        teacher = cloudpickle.loads(self.payload)
        if isinstance(teacher, torch.nn.Module):
            teacher.eval()  # this copy is the process's own: its threads never toggle its flags
        _on_workers.hold(self.key, teacher)

    def teardown(self, worker):
        _on_workers.release(self.key)
