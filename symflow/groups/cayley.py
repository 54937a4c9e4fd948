"""A group from a user's Cayley table, as a function: :func:`group_from_table` is
:meth:`Group.from_table` (the table is read and checked in :mod:`symflow.groups.tables`); this module
keeps the function's import path for tests/test_cli_group.py (its last user).
"""
from __future__ import annotations

from .group import Group


def group_from_table(table, labels=None, name="G", identity=None) -> Group:
    """A validated :class:`Group` from a Cayley table; see :meth:`Group.from_table`."""
    return Group.from_table(table, labels=labels, name=name, identity=identity)

