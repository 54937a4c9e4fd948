"""Validation of user arguments in one place: each function returns the value in its canonical type or
raises :class:`~symflow.errors.SymflowError` with one line ``"<name> must be <what>, got <value>"``.

Booleans are never accepted as numbers (``True`` is an ``int`` in Python, never a width or a seed);
NumPy integer and floating scalars are accepted like Python ones.

>>> integer(512, "width", minimum=1)
512
>>> real(0.5, "lr")
0.5
>>> integer(True, "seed", what="a non-negative integer")
Traceback (most recent call last):
...
symflow.errors.SymflowError: seed must be a non-negative integer, got True
"""
from __future__ import annotations

import numbers

from .errors import SymflowError


def _is_bool(value) -> bool:
    return isinstance(value, bool) or type(value).__name__ in ("bool_", "bool")


def integer(value, name: str, minimum: int | None = 0, what: str | None = None, text: bool = False) -> int:
    """``value`` as an ``int >= minimum`` (any int for ``minimum=None``); ``what`` defaults to "a positive
    integer" (minimum 1), "a non-negative integer" (minimum 0) or "an integer >= minimum". ``text=True``
    (command-line options) also reads decimal text such as ``"40"``."""
    if what is None:
        what = {1: "a positive integer", 0: "a non-negative integer", None: "an integer"}.get(
            minimum, f"an integer >= {minimum}")
    if text and isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise SymflowError(f"{name} must be {what}, got {value!r}") from None
    if _is_bool(value) or not isinstance(value, numbers.Integral) or (minimum is not None and value < minimum):
        raise SymflowError(f"{name} must be {what}, got {value!r}")
    return int(value)


def real(value, name: str, minimum: float | None = 0.0, strict: bool = True, what: str | None = None) -> float:
    """``value`` as a finite ``float`` above ``minimum`` (``strict``) or at least ``minimum`` (any finite
    float for ``minimum=None``); strings and other non-numbers are refused. ``what`` defaults to "a
    positive finite number" / "a number >= 0" / "a finite number"."""
    if what is None:
        if minimum is None:
            what = "a finite number"
        elif minimum == 0:
            what = "a positive finite number" if strict else "a number >= 0"
        else:
            what = f"a finite number > {minimum}" if strict else f"a finite number >= {minimum}"
    if _is_bool(value) or not isinstance(value, numbers.Real):
        raise SymflowError(f"{name} must be {what}, got {value!r}")
    v = float(value)
    below = minimum is not None and (v <= minimum if strict else v < minimum)
    if not (v == v and abs(v) != float("inf")) or below:
        raise SymflowError(f"{name} must be {what}, got {value!r}")
    return v


def choice(value, name: str, choices, what: str | None = None):
    """``value`` if it is one of ``choices``; ``what`` defaults to "one of a, b, c"."""
    if value not in choices:
        what = what or "one of " + ", ".join(map(str, choices))
        raise SymflowError(f"{name} must be {what}, got {value!r}")
    return value


def nontrivial_group(G, what: str):
    """``G`` if it has a non-trivial irrep (order >= 2); else one line naming why ``what`` (e.g. "a landscape
    search") has nothing to work on: the trivial group's only irrep is the trivial one, so a neuron on it has
    no feature to learn and the task has a single class."""
    if getattr(G, "is_compact", False):
        if len(G.irreps) < 2:
            raise SymflowError(f"{G.name} with band limit {G.bandlimit} keeps only the trivial irrep, so {what} has "
                               f"nothing to learn; use --bandlimit 1 or more")
        return G
    if int(G.order) < 2:
        raise SymflowError(f"{G.name} is the trivial group: it has no non-trivial irrep and its table has a single "
                           f"class, so {what} has nothing to learn; use a group of order >= 2 (e.g. Z2, S3)")
    return G
