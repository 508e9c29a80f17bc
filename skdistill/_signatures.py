"""Checking, before any work, that a function the user passes can be called the way we will call it."""

import inspect


def call_refused(function, *args, **kwargs):
    """The ``TypeError`` that calling ``function(*args, **kwargs)`` would raise for its signature, or None.

    ``function`` is not called. A callable whose signature cannot be read (some implemented in C)
    is trusted: None.
    """
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        return exc
    return None
