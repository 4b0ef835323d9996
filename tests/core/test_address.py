from __future__ import annotations

import numpy as np
import pytest

from fugue_lab.core.address import addr, current_scope, escape, scope


def test_plain_and_indexed_addresses():
    assert addr("x") == "x"
    assert addr("x", 3) == "x#3"
    assert addr("w", 2, 0) == "w#2#0"
    assert addr("x", np.int64(7)) == "x#7"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("x#3",), ("x", 3)),
        (("a::b",), ("a", "b")),
        (("x\\",), ("x",)),
        (("x\\#1",), ("x\\", 1)),
    ],
)
def test_reserved_characters_never_collide(a, b):
    assert addr(*a) != addr(*b)


def test_escaping_is_injective_on_tricky_names():
    names = ["x", "x#", "x\\#", "x\\", "x::", "x:", "#", "\\", "::", ":\\:"]
    escaped = [escape(n) for n in names]
    assert len(set(escaped)) == len(names)
    for e in escaped:
        # no unescaped separator survives
        stripped = e.replace("\\\\", "").replace("\\#", "").replace("\\:", "")
        assert "#" not in stripped and ":" not in stripped


@pytest.mark.parametrize("bad", [1.5, True, None, (1,)])
def test_bad_index_type_names_the_value(bad):
    with pytest.raises(TypeError, match="index"):
        addr("x", bad)


def test_bad_name_type():
    with pytest.raises(TypeError, match="name must be a str"):
        addr(3)  # type: ignore[arg-type]


def test_scopes_nest_and_unwind():
    assert current_scope() == ""
    with scope("outer"):
        assert current_scope() == "outer::"
        with scope("in#ner"):
            assert current_scope() == "outer::in\\#ner::"
        assert current_scope() == "outer::"
    assert current_scope() == ""


def test_scope_unwinds_on_exception():
    with pytest.raises(RuntimeError), scope("s"):
        raise RuntimeError("boom")
    assert current_scope() == ""
