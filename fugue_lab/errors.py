"""Exceptions raised by fugue_lab.

Every exception derives from :class:`FugueLabError` and from the built-in
exception a caller would expect (``ValueError`` for bad values, ``TypeError``
for bad types, ``LookupError`` for missing addresses), so ``except ValueError``
keeps working for code that does not know about fugue_lab.

Examples
--------
>>> from fugue_lab.errors import InvalidParameterError
>>> issubclass(InvalidParameterError, ValueError)
True
"""

from __future__ import annotations

__all__ = [
    "AddressConflictError",
    "ArgumentTypeError",
    "BatchError",
    "DegenerateWeightsError",
    "FugueLabError",
    "FugueLabWarning",
    "HandlerError",
    "InvalidObservationError",
    "InvalidParameterError",
    "MissingAddressError",
    "MissingExtraError",
    "NoHandlerError",
    "TypeMismatchError",
    "UnbatchableModelError",
]


class FugueLabError(Exception):
    """Base class of every error fugue_lab raises on purpose.

    Errors pickle with their type, message and attributes intact, so an error
    raised in a worker process (a process pool, a Dask cluster) arrives as itself.
    """

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type, args: tuple, state: dict) -> FugueLabError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class InvalidParameterError(FugueLabError, ValueError):
    """A parameter is outside its allowed range (names the owner, the parameter and the value)."""

    def __init__(self, owner: str, name: str, value: object, expected: str) -> None:
        self.owner = owner
        self.name = name
        self.value = value
        self.expected = expected
        super().__init__(f"{owner}: {name} must be {expected}, got {value!r}")


class AddressConflictError(FugueLabError, ValueError):
    """The same address was used twice within one run."""

    def __init__(self, address: str, where: str = "this run") -> None:
        self.address = address
        super().__init__(
            f"address {address!r} is used twice in {where}; give every site a unique "
            f"address, e.g. addr({address!r}, i) inside a loop or a scope(...) for a sub-model"
        )


class MissingAddressError(FugueLabError, LookupError, ValueError):
    """An address that was asked for is not in the trace."""

    def __init__(self, address: str, available: object = None) -> None:
        self.address = address
        msg = f"address {address!r} is not in the trace"
        if available is not None:
            names = list(available)
            shown = ", ".join(repr(a) for a in names[:8]) + (" ..." if len(names) > 8 else "")
            held = f"{len(names)} choices: {shown}" if names else "no choices"
            msg += f" (it holds {held})"
        super().__init__(msg)

    def __str__(self) -> str:  # LookupError would quote the message like a key
        return str(self.args[0])


class TypeMismatchError(FugueLabError, TypeError):
    """A value has a different type from the one asked for or expected."""

    def __init__(self, address: str, expected: str, actual: object) -> None:
        self.address = address
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"address {address!r}: expected a {expected} value, "
            f"got {type(actual).__name__} {actual!r}"
        )


class ArgumentTypeError(FugueLabError, TypeError):
    """An argument is of the wrong kind (a list where a TracePool was expected, say).

    Mirrors :class:`InvalidParameterError` for types: it names the function, the
    parameter, what arrived and what was expected.
    """

    def __init__(self, owner: str, name: str, value: object, expected: str) -> None:
        self.owner = owner
        self.name = name
        self.value = value
        self.expected = expected
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(
            f"{owner}: {name} must be {expected}, got {type(value).__name__} {shown}"
        )


class InvalidObservationError(FugueLabError, TypeError):
    """An observed value is of a kind the distribution cannot score."""


class NoHandlerError(FugueLabError, RuntimeError):
    """A primitive was called outside :func:`fugue_lab.run`."""


class HandlerError(FugueLabError, RuntimeError):
    """A handler was misused (installed twice at once, say)."""


class DegenerateWeightsError(FugueLabError, ValueError):
    """Every particle or trace has weight -inf (or NaN): there is nothing to normalise."""


class UnbatchableModelError(FugueLabError, TypeError):
    """A model cannot run in batched mode (it branches on a sampled value, say)."""


class MissingExtraError(FugueLabError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, package: str, extra: str, feature: str) -> None:
        super().__init__(
            f"{feature} needs the optional package {package!r}: pip install 'fugue_lab[{extra}]'"
        )


class FugueLabWarning(UserWarning):
    """Base class of fugue_lab's warnings (a safe handler scoring -inf instead of raising, say)."""


class BatchError(FugueLabError, RuntimeError):
    """A chunk of batch work failed; nothing of the batch is returned.

    The message names the chunk; the original exception is chained as
    ``__cause__`` (``raise ... from``), so its traceback is shown too.

    Parameters
    ----------
    chunk_index
        The 0-based index of the chunk that failed.
    n_chunks
        How many chunks the work was split into.
    detail
        What went wrong (usually ``"TypeName: message"`` of the original exception).
    hint
        What to do about it, when that is known (appended to the message).

    Examples
    --------
    >>> err = BatchError(3, 8, "ZeroDivisionError: float division by zero")
    >>> err.chunk_index, str(err)
    (3, 'chunk 3 of 8 failed: ZeroDivisionError: float division by zero')
    """

    def __init__(self, chunk_index: int, n_chunks: int, detail: str, hint: str = "") -> None:
        self.chunk_index = chunk_index
        self.n_chunks = n_chunks
        self.detail = detail
        self.hint = hint
        msg = f"chunk {chunk_index} of {n_chunks} failed: {detail}"
        super().__init__(f"{msg}; {hint}" if hint else msg)

    def __reduce__(self) -> tuple[type[BatchError], tuple[int, int, str, str]]:
        return (type(self), (self.chunk_index, self.n_chunks, self.detail, self.hint))
