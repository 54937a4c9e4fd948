"""symflow.validation: the one place user arguments are checked (one-line SymflowError naming the argument)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from symflow.errors import SymflowError
from symflow.validation import choice, integer, real


@given(st.integers(min_value=1, max_value=10 ** 9))
def test_integer_accepts_python_and_numpy_integers(k):
    assert integer(k, "width", minimum=1) == k
    assert integer(np.int64(k), "width", minimum=1) == k
    assert type(integer(np.int32(min(k, 2 ** 31 - 1)), "width", minimum=1)) is int


@pytest.mark.parametrize("bad", [True, np.True_, 2.0, "3", None, 0, -5])
def test_integer_refuses_with_the_argument_named(bad):
    with pytest.raises(SymflowError, match=r"^width must be a positive integer, got "):
        integer(bad, "width", minimum=1)


@given(st.floats(min_value=1e-300, max_value=1e300))
def test_real_accepts_positive_finite(x):
    assert real(x, "lr") == x
    assert real(np.float64(x), "lr") == x


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "0.5", True, None])
def test_real_refuses(bad):
    with pytest.raises(SymflowError, match=r"^lr must be a positive finite number, got "):
        real(bad, "lr")


def test_real_non_strict_and_unbounded():
    assert real(0, "weight_decay", strict=False) == 0.0
    assert real(-3.5, "shift", minimum=None) == -3.5
    with pytest.raises(SymflowError, match="weight_decay must be a number >= 0"):
        real(-1e-12, "weight_decay", strict=False)


def test_choice():
    assert choice("sum", "reduction", ("mean", "sum")) == "sum"
    with pytest.raises(SymflowError, match="reduction must be one of mean, sum, got 'max'"):
        choice("max", "reduction", ("mean", "sum"))
