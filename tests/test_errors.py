from __future__ import annotations

import pytest

from fugue_lab import errors


def test_every_error_is_a_fugue_lab_error_and_a_builtin():
    builtins = (ValueError, TypeError, LookupError, RuntimeError, ImportError)
    for name in errors.__all__:
        cls = getattr(errors, name)
        if issubclass(cls, Warning):
            continue
        assert issubclass(cls, errors.FugueLabError), name
        if cls is not errors.FugueLabError:
            assert issubclass(cls, builtins), name


def test_invalid_parameter_message_names_owner_parameter_value():
    err = errors.InvalidParameterError("Normal", "sigma", -2.5, "> 0")
    assert str(err) == "Normal: sigma must be > 0, got -2.5"
    assert isinstance(err, ValueError)


def test_missing_address_message_lists_what_is_there():
    err = errors.MissingAddressError("z", ["x", "y"])
    assert "'z'" in str(err) and "'x'" in str(err) and "2 choices" in str(err)
    with pytest.raises(LookupError):
        raise err


def test_missing_extra_names_the_extra():
    err = errors.MissingExtraError("ipywidgets", "lab", "pool_tuner")
    assert "fugue_lab[lab]" in str(err)


def test_errors_pickle_with_type_message_and_attributes():
    import pickle

    err = errors.InvalidParameterError("Normal", "sigma", -2.5, "> 0")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is errors.InvalidParameterError
    assert str(back) == str(err) and back.name == "sigma" and back.value == -2.5
    missing = pickle.loads(pickle.dumps(errors.MissingAddressError("z", ["x"])))
    assert str(missing) == str(errors.MissingAddressError("z", ["x"]))
