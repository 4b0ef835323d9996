"""Addresses: the names of random choices.

An address is a plain string.  Fugue's reserved separators give it structure:
``#`` joins an index (``addr("x", 3) == "x#3"``) and ``::`` joins a scope
(``with scope("outer"):`` turns ``"x"`` into ``"outer::x"``).  A name that
itself contains a reserved character is escaped with a backslash, so
``addr("x#3")`` and ``addr("x", 3)`` can never collide.

Examples
--------
>>> addr("x", 3)
'x#3'
>>> addr("x#3")
'x\\\\#3'
>>> with scope("outer"):
...     current_scope()
'outer::'
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

__all__ = ["INDEX_SEP", "SCOPE_SEP", "addr", "current_scope", "escape", "scope"]

INDEX_SEP = "#"
SCOPE_SEP = "::"

_ESCAPES = str.maketrans({"\\": "\\\\", "#": "\\#", ":": "\\:"})

#: The prefix that the active scopes add to every address ("" outside any scope).
_SCOPE: ContextVar[str] = ContextVar("fugue_lab_scope", default="")


def escape(name: str) -> str:
    """Escape the reserved characters (``\\``, ``#``, ``:``) in one address component.

    Examples
    --------
    >>> escape("plain")
    'plain'
    >>> print(escape("a::b"))
    a\\:\\:b
    """
    if type(name) is not str:
        raise TypeError(f"an address name must be a str, got {type(name).__name__} {name!r}")
    if "#" in name or ":" in name or "\\" in name:
        return name.translate(_ESCAPES)
    return name


def _index_text(index: object) -> str:
    if type(index) is int:
        return str(index)
    if isinstance(index, str):
        return escape(index)
    if isinstance(index, numbers.Integral) and not isinstance(index, (bool, np.bool_)):
        return str(int(index))  # NumPy integers
    raise TypeError(
        f"an address index must be an int or a str, got {type(index).__name__} {index!r}"
    )


def addr(name: str, *indices: int | str) -> str:
    """Build an address from a name and optional indices.

    Parameters
    ----------
    name
        The site's name.  Reserved characters are escaped.
    *indices
        Integer (or string) indices, each joined with ``#``.

    Returns
    -------
    str
        The address, e.g. ``"y#3"`` or ``"w#2#0"``.

    Raises
    ------
    TypeError
        If the name is not a string or an index is neither an integer nor a string.

    Examples
    --------
    >>> addr("y", 3)
    'y#3'
    >>> addr("w", 2, 0)
    'w#2#0'
    """
    text = _ESCAPED.get(name) if type(name) is str else None
    if text is None:
        text = escape(name)
        if len(_ESCAPED) < _ESCAPED_MAX:
            _ESCAPED[name] = text
    for index in indices:
        text += INDEX_SEP + (str(index) if type(index) is int else _index_text(index))
    return text


#: Escaped forms of the names seen so far: models call addr() with the same few names
#: in their hot loops, and a dict lookup is cheaper than scanning for reserved characters.
_ESCAPED: dict[str, str] = {}
_ESCAPED_MAX = 100_000


def current_scope() -> str:
    """The prefix that the active :func:`scope` blocks add to addresses (``""`` outside any).

    Examples
    --------
    >>> current_scope()
    ''
    """
    return _SCOPE.get()


@contextmanager
def scope(name: str) -> Iterator[str]:
    """Prefix every address inside the block with ``name::``.

    Scopes nest (``outer::inner::x``) and are safe across threads and async tasks
    (the prefix lives in a :class:`contextvars.ContextVar`).

    Parameters
    ----------
    name
        The scope's name; reserved characters are escaped.

    Yields
    ------
    str
        The full prefix now in force.

    Examples
    --------
    >>> with scope("outer"), scope("inner"):
    ...     current_scope()
    'outer::inner::'
    """
    prefix = _SCOPE.get() + escape(name) + SCOPE_SEP
    token = _SCOPE.set(prefix)
    try:
        yield prefix
    finally:
        _SCOPE.reset(token)
