"""Teachers held by every process of a Dask cluster, and sent to them by reference inside Dask's own pickling.

:func:`skdistill.dask.teacher_on_workers` puts a trained teacher in :data:`_HELD` in the client and,
through a worker plugin, in every worker. While it is held, a distiller pickled *by distributed*
(``distributed.protocol.pickle.dumps``: task arguments, the scheduler's copies of them, results,
spilling) carries a :class:`TeacherReference` of a few dozen bytes instead of the teacher, and the
receiving process puts its own copy back. Every other pickle (``pickle.dumps``, ``joblib.dump``,
cloudpickle for loky, skops) is made as before, self-contained: the reference is never written where
the cluster cannot be reached.

This module imports neither dask nor distributed: every distiller's ``__getstate__`` calls
:func:`sent_by_reference`, which does nothing while no teacher is held.
"""

import sys

from .teachers import _TeacherAdapter

# key -> [teacher, number of holders]: the teachers this process holds, by the digest of their pickle.
_HELD = {}
# id(teacher) -> key, for the teachers in _HELD.
_KEY_OF = {}


def hold(key, teacher):
    """Hold ``teacher`` under ``key`` (counted: each :func:`release` undoes one :func:`hold`); return the teacher held.

    A process that already holds ``key`` keeps its own object (a worker running in the client's
    process uses the client's teacher, not a copy).
    """
    entry = _HELD.setdefault(key, [teacher, 0])
    entry[1] += 1
    _KEY_OF[id(entry[0])] = key
    return entry[0]


def release(key):
    """Undo one :func:`hold` of ``key``; the teacher is dropped when no holder is left."""
    entry = _HELD.get(key)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] <= 0:
        del _HELD[key]
        _KEY_OF.pop(id(entry[0]), None)


def held(key):
    """Whether this process holds the teacher ``key``."""
    return key in _HELD


def _key_of(value):
    key = _KEY_OF.get(id(value))
    return key if key is not None and _HELD[key][0] is value else None


class TeacherReference:
    """In a pickle made by distributed: "the teacher this process's cluster holds under ``key``".

    Unpickling gives the teacher itself where it is held; elsewhere (a scheduler, which only forwards
    tasks) an :class:`_AbsentTeacher` that pickles as the same reference and refuses to be used.
    """

    def __init__(self, key, description):
        self.key = key
        self.description = description

    def __reduce__(self):
        return _resolve, (self.key, self.description)


def _resolve(key, description):
    entry = _HELD.get(key)
    return _AbsentTeacher(key, description) if entry is None else entry[0]


class _AbsentTeacher:
    """A teacher sent by reference to a process that does not hold it: forwarded as the reference, never used."""

    def __init__(self, key, description):
        self.key = key
        self.description = description

    def __reduce__(self):
        return _resolve, (self.key, self.description)

    def __repr__(self):
        return f"<{self.description} held by the cluster under {self.key}, not by this process>"

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise RuntimeError(
            f"The teacher {self.description} was sent by reference by skdistill.dask.teacher_on_workers, but this "
            "process does not hold it: only the client and the workers of the cluster do, and only inside the "
            "`with teacher_on_workers(...)` block. Run the fits inside the block (objects sent to the cluster "
            "inside it must not be used after it ends)."
        )


def sent_by_reference(state, names=("teacher", "teacher_")):
    """``state`` (a distiller's, being pickled) with held teachers replaced by references, inside
    distributed's pickling only; ``state`` itself otherwise.

    Containers and skdistill's teacher adapters on the way are copied, never changed in place.
    """
    if not _KEY_OF or not _in_distributed_pickling():
        return state
    memo = {}
    swapped = {name: _swapped(state[name], memo) for name in names if name in state}
    return {**state, **swapped}


def _swapped(value, memo):
    """``value`` with held teachers replaced by references, walking lists, tuples, dicts and adapters."""
    if id(value) in memo:
        return memo[id(value)][1]
    key = _key_of(value)
    if key is not None:
        result = TeacherReference(key, type(value).__name__)
    elif isinstance(value, (list, tuple)):
        items = [_swapped(item, memo) for item in value]
        changed = any(new is not old for new, old in zip(items, value))
        result = type(value)(items) if changed else value
    elif isinstance(value, dict):
        items = {name: _swapped(item, memo) for name, item in value.items()}
        result = items if any(items[name] is not value[name] for name in value) else value
    elif isinstance(value, _TeacherAdapter):
        attributes = {name: _swapped(item, memo) for name, item in vars(value).items()}
        changed = {name: item for name, item in attributes.items() if item is not vars(value)[name]}
        result = value
        if changed:
            # A shallow copy made without pickling hooks: only the pickle sees the references.
            result = object.__new__(type(value))
            result.__dict__.update(vars(value))
            result.__dict__.update(changed)
    else:
        result = value
    memo[id(value)] = (value, result)  # holding `value` keeps its id unique during the walk
    return result


def _in_distributed_pickling():
    """Whether this thread is inside ``distributed.protocol.pickle.dumps``: the pickling distributed
    does for its own transfers (task graphs, scheduler to worker, results, spilling).

    The only signal that tells distributed's pickling apart from the user's: distributed calls the
    standard pickle (or cloudpickle) with no hook that reaches nested objects. Looked for on this
    thread's stack, by the function's code object; if distributed is not imported, or the function is
    not found (a future distributed renamed it), the answer is False and pickles stay self-contained.
    """
    module = sys.modules.get("distributed.protocol.pickle")
    code = getattr(getattr(module, "dumps", None), "__code__", None)
    getframe = getattr(sys, "_getframe", None)
    if code is None or getframe is None:
        return False
    frame = getframe(1)
    while frame is not None:
        if frame.f_code is code:
            return True
        frame = frame.f_back
    return False
