"""The teacher-output cache: a teacher scores a given dataset once, whatever number of fits need it.

Grid search trains many students against one teacher on the same folds. The teacher's outputs (and,
for a teacher that must be fitted first, the fitted teacher) are stored under a key that covers
what they depend on:

- the data: ``X`` (values, dtype, shape, DataFrame columns and index), ``y`` and ``sample_weight``;
- the teacher adapter in its current state: its parameters, the module's weights, buffers and device
  or the scikit-learn model's fitted state (everything pickling captures);
- the code that computes the outputs: for every user-defined class and function in the teacher
  (torch modules, custom estimators, functions given as parameters), its bytecode, default
  arguments, closure values, class attributes and the module-level names it reads (helper
  functions, recursively; numbers, strings, arrays and tensors by value); the versions of
  skdistill (and a digest of the skdistill code that computes outputs), scikit-learn, torch, numpy,
  scipy, joblib and pandas, and of any other installed package (LightGBM, ...) whose classes the
  teacher uses.

Classes and functions that pickle cannot import by name (defined in a script run as ``__main__``,
in a notebook, or inside a function) are keyed by that description of their code rather than by
their identity, in this process and in worker processes alike: joblib's workers receive them pickled
by value, as fresh objects, and still find the outputs that the parent or another worker stored.

What it cannot see: state the code reaches other than through those names (attributes of other
module-level objects, files, environment variables, random draws), and compiled code outside the
listed packages. Such a teacher should be used with ``memory=False``. A teacher whose key cannot be
computed at all (an attribute that pickle refuses, such as a ctypes pointer or an open file) is not
cached, with one warning per teacher class.

Outputs live in a bounded in-process store (least recently used entries go first) and, when a
distiller is given ``memory=``, in a :class:`joblib.Memory` on disk, which processes share (as in
``GridSearchCV(n_jobs>1)``) and which outlives the Python session.
"""

import dis
import functools
import hashlib
import importlib.metadata
import io
import pickle
import sys
import threading
import types
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import joblib

import numpy as np
import scipy
import sklearn
import torch
from joblib.hashing import NumpyHasher
from sklearn.base import clone
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples, check_memory

from . import __version__

__all__ = ["clear_teacher_cache", "set_teacher_cache_limits", "teacher_cache_info"]

# Classes from these packages are identified by the package's version, not by their code.
_VERSIONED_PACKAGES = {"builtins", "numpy", "scipy", "sklearn", "torch", "skdistill", "joblib", "pandas"}


def _source_digest():
    """A digest of the skdistill code that computes teacher outputs, so that editing it (in a development
    checkout, where the version does not change) misses a disk cache."""
    package = Path(__file__).parent
    digest = hashlib.md5()
    for name in ("_cache.py", "teachers.py", "_torch_utils.py"):
        digest.update((package / name).read_bytes())
    return digest.hexdigest()


_VERSIONS = (
    __version__,
    _source_digest(),
    sklearn.__version__,
    torch.__version__,
    np.__version__,
    scipy.__version__,
    joblib.__version__,
)


@dataclass(frozen=True)
class TeacherCacheInfo:
    """Statistics of the in-process teacher-output cache (see :func:`teacher_cache_info`).

    Parameters
    ----------
    hits : int
        Lookups answered from the cache (in-process or on disk) since the last clear.
    misses : int
        Lookups that ran the teacher.
    entries : int
        Entries held in this process.
    nbytes : int
        Bytes of teacher outputs held in this process.
    max_bytes : int
        Limit on ``nbytes``; the least recently used entries are dropped to stay under it.
    max_entries : int
        Limit on ``entries``.

    Examples
    --------
    >>> from skdistill import teacher_cache_info
    >>> info = teacher_cache_info()
    >>> info.nbytes <= info.max_bytes
    True
    """

    hits: int
    misses: int
    entries: int
    nbytes: int
    max_bytes: int
    max_entries: int


class _LRUStore:
    """A thread-safe least-recently-used store bounded in bytes and in entries."""

    def __init__(self, max_bytes, max_entries):
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self._entries = OrderedDict()
        self._nbytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key):
        with self._lock:
            if key not in self._entries:
                return None
            self._entries.move_to_end(key)
            return self._entries[key][0]

    def put(self, key, value, nbytes):
        with self._lock:
            if key in self._entries or nbytes > self.max_bytes or self.max_entries < 1:
                return
            self._entries[key] = (value, nbytes)
            self._nbytes += nbytes
            self._shrink()

    def _shrink(self):
        while self._entries and (self._nbytes > self.max_bytes or len(self._entries) > self.max_entries):
            _, (_, nbytes) = self._entries.popitem(last=False)
            self._nbytes -= nbytes

    def count(self, hit):
        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1

    def clear(self):
        with self._lock:
            self._entries.clear()
            self._nbytes = 0
            self.hits = self.misses = 0

    def set_limits(self, max_bytes, max_entries):
        with self._lock:
            self.max_bytes = max_bytes
            self.max_entries = max_entries
            self._shrink()

    def info(self):
        with self._lock:
            return TeacherCacheInfo(
                self.hits, self.misses, len(self._entries), self._nbytes, self.max_bytes, self.max_entries
            )


_IN_PROCESS = _LRUStore(max_bytes=512 * 2**20, max_entries=128)


def teacher_cache_info():
    """Return statistics of this process's teacher-output cache: hits, misses, size and limits.

    Returns
    -------
    TeacherCacheInfo
        ``hits``, ``misses``, ``entries``, ``nbytes``, ``max_bytes`` and ``max_entries``.

    See Also
    --------
    clear_teacher_cache : Empty the cache.
    set_teacher_cache_limits : Bound its size.

    Examples
    --------
    >>> from skdistill import clear_teacher_cache, teacher_cache_info
    >>> clear_teacher_cache()
    >>> teacher_cache_info().entries
    0
    """
    return _IN_PROCESS.info()


def clear_teacher_cache():
    """Drop every teacher output held in this process and reset the hit and miss counts.

    This process also forgets which teachers it warned about as not cacheable. A ``memory=`` cache on
    disk is not touched: clear it with its own ``joblib.Memory.clear()``.

    See Also
    --------
    teacher_cache_info : Statistics of the cache.

    Examples
    --------
    >>> from skdistill import clear_teacher_cache
    >>> clear_teacher_cache()
    """
    _IN_PROCESS.clear()
    _WARNED_UNCACHEABLE.clear()


def set_teacher_cache_limits(max_bytes=512 * 2**20, max_entries=128):
    """Bound the memory this process's teacher-output cache may hold.

    The least recently used entries are dropped first; an output larger than ``max_bytes`` is not
    kept at all. ``max_entries=0`` turns in-process caching off for every distiller.

    Parameters
    ----------
    max_bytes : int, default=512 * 2**20
        Bytes of teacher outputs (logits) held at most.
    max_entries : int, default=128
        Entries held at most (an entry is one teacher on one dataset).

    See Also
    --------
    teacher_cache_info : The current size and limits.

    Examples
    --------
    >>> from skdistill import set_teacher_cache_limits, teacher_cache_info
    >>> set_teacher_cache_limits(max_bytes=2**20, max_entries=8)
    >>> teacher_cache_info().max_entries
    8
    >>> set_teacher_cache_limits()  # back to the defaults
    """
    for name, value in (("max_bytes", max_bytes), ("max_entries", max_entries)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be a non-negative int; got {value!r}.")
    _IN_PROCESS.set_limits(int(max_bytes), int(max_entries))


def fit_logits(teacher, X, y, sample_weight, *, memory):
    """``teacher.fit_logits(X, y, sample_weight)`` through the cache; ``teacher`` ends up fitted either way.

    Parameters
    ----------
    teacher : TorchTeacher or SklearnTeacher
        An unfitted adapter; fitted in place, or given the fitted state of an identical earlier fit.
    X, y, sample_weight
        As for ``fit_logits``.
    memory : None, False, str or joblib.Memory
        None: in-process cache only. False: no caching. Otherwise: in-process, then on disk.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        Read-only when it comes from the cache.
    """

    if hasattr(teacher, "_fit_logits_with_memory"):  # an ensemble: each member cached on its own
        return teacher._fit_logits_with_memory(X, y, sample_weight, memory=memory)

    def compute():
        logits = teacher.fit_logits(X, y, sample_weight=sample_weight)
        return teacher._fitted_state(), logits

    state, logits = _through_cache(compute, memory, "fit_logits", teacher, X, y, sample_weight)
    teacher._set_fitted_state(state)  # a no-op when this fit computed it
    return logits


def out_of_fold_logits(teacher, X, y, sample_weight, splits, *, memory):
    """Fit ``teacher`` on all rows (as :func:`fit_logits`), and give each row the outputs of a clone
    fitted on the other folds, as :func:`sklearn.model_selection.cross_val_predict` does.

    Both go through the cache: the full fit under the same key as :func:`fit_logits` (so a search over
    ``teacher_cv`` fits it once), the fold outputs under a key holding the unfitted teacher, the data
    and the folds' row indices themselves (so a splitter that draws new folds at each call never hits).

    Parameters
    ----------
    teacher : adapter
        An unfitted adapter (``fit``, ``logits``, ``classes_`` for classification); fitted in place on
        all rows. Each fold fits a clone of it.
    X, y, sample_weight
        As for ``fit_logits``; a fold's rows are taken with their weights.
    splits : list of (ndarray, ndarray)
        Row indices ``(train, test)`` of each fold; the ``test`` parts hold out every row once.
    memory : None, False, str or joblib.Memory
        As in :func:`fit_logits`.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
        Row ``i``: the outputs of the teacher fitted without the fold holding ``i`` out, columns in the
        order of the fitted ``teacher.classes_`` (when it has classes).
    """
    if hasattr(teacher, "_out_of_fold_logits_with_memory"):  # an ensemble: each member cached on its own
        return teacher._out_of_fold_logits_with_memory(X, y, sample_weight, splits, memory=memory)
    unfitted = clone(teacher)
    fit_logits(teacher, X, y, sample_weight, memory=memory)
    classes = getattr(teacher, "classes_", None)

    def compute():
        logits = None
        for fold, (train, test) in enumerate(splits):
            fold_teacher = clone(unfitted).fit(
                _safe_indexing(X, train), y[train], sample_weight=None if sample_weight is None else sample_weight[train]
            )
            fold_logits = fold_teacher.logits(_safe_indexing(X, test))
            if classes is not None:
                fold_logits = fold_logits[:, _columns_scoring(classes, fold_teacher.classes_, f"{fold + 1} of {len(splits)}")]
            if logits is None:
                logits = np.empty((_num_samples(X), *fold_logits.shape[1:]), dtype=fold_logits.dtype)
            logits[test] = fold_logits
        return logits

    return _through_cache(compute, memory, "out_of_fold_logits", unfitted, X, y, sample_weight, splits)


def _columns_scoring(classes, fold_classes, fold):
    """For each label of ``classes``, the column of a fold teacher's outputs that scores it."""
    column_of = {label: column for column, label in enumerate(np.asarray(fold_classes).tolist())}
    labels = np.asarray(classes).tolist()
    if set(column_of) != set(labels):
        raise ValueError(
            f"teacher_cv, fold {fold}: the teacher fitted on the other folds scores the classes "
            f"{sorted(column_of, key=str)!r}, but the teacher fitted on all rows scores {sorted(labels, key=str)!r}: "
            "its out-of-fold outputs cannot be matched to the classes. Use fewer folds, or teacher_cv=None."
        )
    return np.array([column_of[label] for label in labels])


def logits(teacher, X, *, memory):
    """``teacher.logits(X)`` of a fitted adapter, through the cache.

    Parameters
    ----------
    teacher : TorchTeacher or SklearnTeacher
        A fitted adapter.
    X : array-like of shape (n_samples, n_features)
    memory : None, False, str or joblib.Memory
        As in :func:`fit_logits`.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
    """
    if hasattr(teacher, "_logits_with_memory"):  # an ensemble: each member cached on its own
        return teacher._logits_with_memory(X, memory=memory)
    return _through_cache(lambda: teacher.logits(X), memory, "logits", teacher, X)


def _through_cache(compute, memory, kind, teacher, *data):
    """``compute()``, or what an identical earlier call stored (see :func:`_key`); uncached when there
    is no key (``memory=False``, or a teacher that cannot be hashed)."""
    key = None if memory is False else _key(kind, teacher, *data)
    if key is None:
        return compute()
    value = _IN_PROCESS.get(key)
    if value is not None:
        _IN_PROCESS.count(hit=True)
        return value
    computed = []

    def compute_and_note():
        computed.append(True)
        return compute()

    if memory is None:
        value = compute_and_note()
    else:
        value = check_memory(memory).cache(_stored_teacher_outputs, ignore=["compute"])(key, compute_and_note)
    _IN_PROCESS.count(hit=not computed)
    value = _read_only(value)
    _IN_PROCESS.put(key, value, _nbytes(value))
    return value


def _stored_teacher_outputs(key, compute):
    """What ``joblib.Memory`` caches: the outputs under ``key`` (``compute`` is not part of the key)."""
    return compute()


def _read_only(value):
    """Cached arrays are shared by every fit that hits them: make accidental writes raise."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, tuple):
        for part in value:
            _read_only(part)
    return value


def _nbytes(value):
    """The memory an entry holds: arrays by size; a fitted teacher's state (a fitted forest, say) by the
    length of its pickle."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, tuple):
        return sum(_nbytes(part) for part in value)
    stream = io.BytesIO()
    try:
        _SizingPickler(stream, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    except Exception:  # cannot be measured: count it as too large to keep
        return _IN_PROCESS.max_bytes + 1
    return stream.tell()


class _SizingPickler(pickle.Pickler):
    """A pickler for measuring only: it writes a class or function that pickle cannot find by name (a
    teacher class defined in a function, or in ``__main__`` and received by a worker) as its name,
    where pickle would raise and leave such a fitted teacher out of the in-process store."""

    def persistent_id(self, obj):
        if isinstance(obj, (type, types.FunctionType)) and not _pickled_by_reference(obj):
            return f"{obj.__module__}.{obj.__name__}"
        return None


def _key(kind, teacher, *data):
    """A digest of everything the outputs of ``kind`` depend on (see the module docstring).

    None when it cannot be computed (pickling some part of the teacher or of the data raises): such
    outputs are not cached, and the first time this happens for a teacher class, a warning says so.
    """
    try:
        hasher = _TensorAwareHasher()
        pandas = sys.modules.get("pandas")
        versions = (*_VERSIONS, getattr(pandas, "__version__", None))
        return hasher.hash((kind, versions, _code_fingerprint(teacher), teacher, data))
    except Exception as exc:  # whatever pickling raises (ctypes pointers raise ValueError): no caching
        _warn_uncacheable(teacher, exc)
        return None


# The teacher classes already warned about in this process: a grid search fits hundreds of times.
_WARNED_UNCACHEABLE = set()


def _warn_uncacheable(teacher, exc):
    """Say once per teacher class that its outputs are recomputed in every fit, why, and what to do."""
    models = [
        value
        for value in teacher.get_params(deep=False).values()
        if isinstance(value, torch.nn.Module) or hasattr(value, "predict_proba")
    ]
    model = models[0] if models else teacher
    name = f"{type(model).__module__}.{type(model).__qualname__}"
    with _IN_PROCESS._lock:
        if name in _WARNED_UNCACHEABLE:
            return
        _WARNED_UNCACHEABLE.add(name)
    # joblib appends a repr of the whole object being hashed to a PicklingError: keep the cause only.
    reason = str(exc.args[0]) if exc.args else ""
    reason = f"{type(exc).__name__}: {reason[:200]}{'...' if len(reason) > 200 else ''}"
    warnings.warn(
        f"The outputs of the teacher {name} are not cached: its cache key cannot be computed because "
        f"pickling the teacher or the data raised {reason}. The teacher runs again in every fit (every "
        "candidate and fold of a grid search). To cache it, remove the attribute that cannot be pickled "
        "(a ctypes pointer, an open file, a lock); pass memory=False to run uncached without this warning.",
        UserWarning,
        stacklevel=5,
    )


class _TensorAwareHasher(NumpyHasher):
    """joblib's hasher, with torch tensors hashed by content and classes and functions that pickle
    cannot import by name hashed by their code.

    A tensor's own pickle embeds the address of its storage, so two identical modules (or one module
    and its copy in a worker process) would never hash alike. A class defined in ``__main__`` or in a
    function cannot be pickled by name at all, or, in a worker process that received it pickled by
    value, is not the object its name leads to: both raise, and such teachers were never cached.
    """

    def save(self, obj):
        if type(obj) is np.ndarray and not obj.dtype.hasobject:
            self._save_array(obj)
            return
        if isinstance(obj, torch.nn.Module):
            obj = ("torch.nn.Module", _module_description(obj))
        elif isinstance(obj, torch.Tensor):
            data = obj.detach()
            if data.layout != torch.strided:
                data = data.to_dense()
            if data.is_quantized:
                data = data.int_repr()
            content = data.cpu().contiguous().reshape(-1).view(torch.uint8).numpy()
            description = (type(obj).__name__, str(obj.dtype), str(obj.device), tuple(obj.shape), obj.requires_grad)
            obj = ("torch.Tensor", description, content)
        elif isinstance(obj, (type, types.FunctionType)) and not _pickled_by_reference(obj):
            obj = _versioned_name(obj) if _is_versioned(obj) else self._by_value(obj)
        super().save(obj)

    def _save_array(self, array):
        """An array as its bytes, in the order they are hashed ("C" or "F"), and its dtype and shape;
        that description pickled by one C ``pickle.dumps`` and saved as bytes.

        joblib's own path pickles the description (with strides for the order) in Python, a dozen
        ``save`` calls per array. A fitted booster or forest holds thousands of small arrays (a
        100-iteration, 10-class HistGradientBoosting: 3,030 arrays), and those calls were most of its
        key's cost: a description is pickled once per dtype object, shape and order in a key. The order,
        unlike strides, does not change when an array with an axis of length 0 or 1 is pickled (as a
        fitted teacher is for a worker process).
        """
        if array.ndim == 0:
            contiguous, order = array.reshape(1), "C"
        elif array.flags.c_contiguous:
            contiguous, order = array, "C"
        elif array.flags.f_contiguous:
            contiguous, order = array.T, "F"
        else:
            contiguous, order = array.flatten(), "C"
        self._hash.update(memoryview(contiguous.view(np.uint8)))
        # By the dtype's id, not its value: dtypes that compare equal may differ (metadata, alignment).
        descriptions = self.__dict__.setdefault("_array_descriptions", {})
        known = descriptions.get((id(array.dtype), array.shape, order))
        if known is None:
            description = pickle.dumps((array.dtype, array.shape, order), protocol=pickle.HIGHEST_PROTOCOL)
            known = descriptions[(id(array.dtype), array.shape, order)] = (array.dtype, description)  # keeps the id
        super().save(("ndarray", known[1]))

    def _by_value(self, obj):
        """The same description object for every occurrence of ``obj``, which the pickler memoizes, so
        a class met once per submodule is described once."""
        described = getattr(self, "_described", None)
        if described is None:
            described = self._described = {}
        if id(obj) not in described:
            if isinstance(obj, type):
                description = ("class by value", _class_description(obj, set()))
            else:
                description = ("function by value", obj.__module__, obj.__name__, _code_of(obj, set()))
            described[id(obj)] = (obj, description)  # obj kept alive so that its id stays its own
        return described[id(obj)][1]


def _pickled_by_reference(obj):
    """Whether pickle, in this process and in joblib's workers, finds ``obj`` by its module and name.

    The test cloudpickle (which joblib's workers use) applies: a class or function of ``__main__``
    (a script, a notebook), of a module missing from ``sys.modules``, or that its module's attribute
    of that name is not (defined in a function: ``<locals>`` in its name), or of a module registered
    with ``cloudpickle.register_pickle_by_value``, is pickled by value. Deciding the same way in the
    parent keeps its keys equal to those of the workers, which unpickle such a class as a new object.
    """
    module_name = getattr(obj, "__module__", None)
    if module_name in (None, "__main__") or module_name not in sys.modules:
        return False
    found = sys.modules[module_name]
    for part in obj.__qualname__.split("."):
        found = getattr(found, part, None)
    if found is not obj:
        return False
    cloudpickle = sys.modules.get("cloudpickle")
    by_value = cloudpickle.list_registry_pickle_by_value() if cloudpickle is not None else ()
    return not any(module_name == name or module_name.startswith(name + ".") for name in by_value)


def _module_description(module):
    """What a module's outputs depend on, cheaper to hash than its pickle.

    Per submodule: its class, its non-empty attributes (layer sizes, flags, hooks), its parameters
    and its buffers (persistent or not). Empty hook dictionaries, a dozen per submodule, are skipped:
    pickling them dominated the cost of a key for small teachers.
    """
    description = []
    for name, submodule in module.named_modules(remove_duplicate=False):
        attributes = {
            key: value
            for key, value in vars(submodule).items()
            if key not in ("_parameters", "_buffers", "_modules")
            and not (isinstance(value, (dict, set, list, tuple)) and not value)
        }
        description.append((name, type(submodule), attributes, submodule._parameters, submodule._buffers))
    return description


def _code_fingerprint(teacher):
    """The code of every user-defined class and function in the teacher, so that editing it misses.

    For each function: its bytecode and constants, default arguments, closure values, and the
    module-level names its code refers to (helper functions, recursively; numbers, strings, arrays
    and tensors by value). Classes and functions of scikit-learn, torch, numpy, scipy, pandas, joblib
    and skdistill are identified by the package versions instead.
    """
    parts = _parts_of(teacher)
    seen = set()
    fingerprint = []
    # In the order met, not sorted by name: two local classes may share a name.
    classes = dict.fromkeys(type(obj) for obj in parts)
    for cls in classes:
        fingerprint.append(_class_description(cls, seen))
    for obj in parts:
        if hasattr(obj, "get_params"):  # functions given as parameters: FunctionTransformer(func=...)
            functions = [v for v in obj.get_params(deep=False).values() if isinstance(v, types.FunctionType)]
            fingerprint.extend(_value_description(function, seen) for function in functions)
    return fingerprint


def _versioned_name(obj):
    """How the key names a class or function of an installed package (its name and the package's
    version), or None for the user's own code, which the key describes by its code instead.

    Installed packages (LightGBM, XGBoost, CatBoost, ...) are not described by their code: walking a
    large library's code and globals is slow, and nested deeply enough to exceed Python's recursion
    limit, which left such teachers uncached.
    """
    module = getattr(obj, "__module__", None) or ""
    package = module.partition(".")[0]
    if package in _VERSIONED_PACKAGES:
        return ("versioned", module, getattr(obj, "__qualname__", None))  # versions: see _VERSIONS
    version = _installed_version(package)
    return None if version is None else ("versioned", module, getattr(obj, "__qualname__", None), version)


def _installed_version(package):
    """The version of the distribution that installed ``package`` into a site-packages directory, or
    None: for ``__main__`` (a loky worker's ``__main__`` is loky's own module), the user's modules, and
    packages installed in development mode (``pip install -e``), whose code may change."""
    return _version_at(package, getattr(sys.modules.get(package), "__file__", None) or "")


@functools.lru_cache(maxsize=None)
def _version_at(package, location):
    in_site_packages = any(part in ("site-packages", "dist-packages") for part in Path(location).parts)
    distributions = _distributions().get(package)
    if package == "__main__" or not in_site_packages or not distributions:
        return None
    try:
        return importlib.metadata.version(distributions[0])
    except importlib.metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def _distributions():
    return importlib.metadata.packages_distributions()


def _is_versioned(obj):
    return _versioned_name(obj) is not None


# Class attributes that are not the class's behaviour, or that come and go (pickle caches
# __slotnames__ on first use; Python 3.13 adds __firstlineno__ and __static_attributes__).
_CLASS_BOOKKEEPING = {
    "__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__slotnames__", "__annotations__",
    "__firstlineno__", "__static_attributes__", "__orig_bases__", "__parameters__", "_abc_impl",
}  # fmt: skip


def _class_description(cls, seen):
    """A class's code and its other class attributes (``BIAS = 5`` read as ``self.BIAS``), per class of
    its MRO that is not from a versioned package."""
    if id(cls) in seen:
        return "<described above>"
    seen.add(id(cls))
    description = []
    for klass in cls.__mro__:
        if _is_versioned(klass):
            description.append(_versioned_name(klass))
            continue
        attributes = []
        for name, value in vars(klass).items():
            if name in _CLASS_BOOKKEEPING:
                continue
            code = _code_of(value, seen)
            attributes.append((name, code if code is not None else _value_description(value, seen)))
        # __name__, not __qualname__: cloudpickle does not restore the qualified name of a class it
        # pickles by value ("make_teacher.<locals>.Teacher" arrives in a worker as "Teacher").
        description.append((klass.__module__, klass.__name__, sorted(attributes, key=lambda item: item[0])))
    return description


def _parts_of(teacher):
    """The teacher adapter, its model and the model's parts (submodules, nested estimators)."""
    parts = [teacher]
    for value in vars(teacher).values():
        if isinstance(value, torch.nn.Module):
            parts.extend(value.modules())
        elif hasattr(value, "get_params"):
            parts.append(value)
            parts.extend(v for v in value.get_params(deep=True).values() if hasattr(v, "get_params"))
    return parts


def _code_of(obj, seen):
    """A process-independent description of a function and what its code reads; None for non-functions."""
    obj = getattr(obj, "__func__", obj)  # classmethod, staticmethod
    if isinstance(obj, property):
        return [_code_of(f, seen) for f in (obj.fget, obj.fset, obj.fdel)]
    code = getattr(obj, "__code__", None)
    if not isinstance(code, types.CodeType):
        return None
    if id(code) in seen:
        return "<described above>"  # recursion, or a helper shared by several methods
    seen.add(id(code))
    module_globals = getattr(obj, "__globals__", {})
    referenced = sorted(
        (name, _value_description(module_globals[name], seen)) for name in _names_read(code) if name in module_globals
    )
    closure = []
    for cell in getattr(obj, "__closure__", None) or ():
        try:
            closure.append(_value_description(cell.cell_contents, seen))
        except ValueError:  # an empty cell
            closure.append(None)
    defaults = _value_description(getattr(obj, "__defaults__", None), seen)
    kwdefaults = _value_description(getattr(obj, "__kwdefaults__", None), seen)
    return (_code_description(code), defaults, kwdefaults, closure, referenced)


# The instructions that read or write a module-level name, as cloudpickle walks them: a function
# pickled by value arrives in a worker with exactly these names of its globals, so the key reads the
# same names in both processes (``co_names`` would also list attribute names such as ``self.linear``).
_GLOBAL_OPS = {dis.opmap[name] for name in ("LOAD_GLOBAL", "STORE_GLOBAL", "DELETE_GLOBAL")}


def _names_read(code):
    names = {instruction.argval for instruction in dis.get_instructions(code) if instruction.opcode in _GLOBAL_OPS}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names_read(const)
    return names


def _value_description(value, seen):
    """What the key records of a value that code reads: its value, or its code, or (else) its type."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return value
    if isinstance(value, (tuple, list)):
        return tuple(_value_description(item, seen) for item in value)
    if isinstance(value, dict):
        return sorted((repr(key), _value_description(item, seen)) for key, item in value.items())
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return value
    if isinstance(value, types.ModuleType):
        return ("module", value.__name__)
    if isinstance(value, type):
        return _versioned_name(value) if _is_versioned(value) else _class_description(value, seen)
    if callable(value) and hasattr(value, "__code__") and not _is_versioned(value):
        return _code_of(value, seen)
    if _is_versioned(value):
        return _versioned_name(value)
    if callable(value):
        return ("callable", getattr(value, "__module__", None), getattr(value, "__qualname__", type(value).__name__))
    return ("object", type(value).__module__, type(value).__qualname__)


def _code_description(code):
    return (code.co_code, tuple(_const_description(c) for c in code.co_consts), code.co_names)


def _const_description(const):
    """A constant as every process sees it: a frozenset (``x in {"a", "b"}``) iterates, and so prints,
    in an order that depends on the process's string-hash seed, which differs between workers."""
    if isinstance(const, types.CodeType):
        return _code_description(const)
    if isinstance(const, frozenset):
        return ("frozenset", tuple(sorted(repr(item) for item in const)))
    if isinstance(const, tuple):
        return tuple(_const_description(item) for item in const)
    return repr(const)
