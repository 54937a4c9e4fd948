"""The ``symflow group`` command: JSON contract, errors for unknown names, invalid Cayley tables."""
import json

import numpy as np
import pytest

import symflow
from symflow.cli import main
from symflow.errors import GroupAxiomError
from symflow.groups import Group

CONTRACT = {"name", "order", "elements", "identity", "table", "classes", "irreps"}
IRREP_KEYS = {"label", "dim", "indicator", "character", "matrices"}


def run_json(capsys, name):
    assert main(["group", name, "--json"]) == 0
    out = capsys.readouterr().out
    return json.loads(out)


def as_complex(pairs):
    arr = np.asarray(pairs, dtype=float)
    return arr[..., 0] + 1j * arr[..., 1]


@pytest.mark.parametrize("name", ["Z7", "Z3xZ5", "D5", "Q8", "Dic3", "S4", "A4", "F21", "C7:C3"])
def test_group_json_contract(capsys, name):
    data = run_json(capsys, name)
    assert CONTRACT <= set(data)
    G = symflow.group(name)
    n = data["order"]
    assert n == G.order == len(data["elements"])
    assert isinstance(data["name"], str) and data["name"]
    assert all(isinstance(e, str) for e in data["elements"])
    table = np.array(data["table"])
    assert table.shape == (n, n) and np.array_equal(table, G.table)
    assert np.array_equal(table[data["identity"]], np.arange(n))
    assert sorted(i for c in data["classes"] for i in c) == list(range(n))
    assert len(data["irreps"]) == len(data["classes"])
    assert sum(r["dim"] ** 2 for r in data["irreps"]) == n
    first = data["irreps"][0]
    assert first["dim"] == 1 and np.allclose(as_complex(first["character"]), 1)
    for r in data["irreps"]:
        assert IRREP_KEYS <= set(r)
        assert r["indicator"] in (-1, 0, 1)
        M = as_complex(r["matrices"])
        assert M.shape == (n, r["dim"], r["dim"])
        # the JSON matrices alone form a representation of the JSON table, with the JSON character
        assert np.allclose(np.einsum("gab,hbc->ghac", M, M), M[table], atol=1e-12)
        assert np.allclose(np.trace(M, axis1=1, axis2=2), as_complex(r["character"]), atol=1e-12)


def test_quaternionic_indicator_in_json(capsys):
    data = run_json(capsys, "Q8")
    assert sorted(r["indicator"] for r in data["irreps"]) == [-1, 1, 1, 1, 1]


def test_group_rich_output(capsys):
    assert main(["group", "D4"]) == 0
    assert "D4" in capsys.readouterr().out


@pytest.mark.parametrize("name,hint", [("Z3xY5", "Z3xZ5"), ("F2l", "F21"), ("S9", "S<n>"), ("F12", "Frobenius"),
                                       ("Dic1", "Dic"), ("Q12", "Dic3")])
def test_unknown_name_suggests_and_exits_2(capsys, name, hint):
    assert main(["group", name]) == 2
    captured = capsys.readouterr()
    err = " ".join(captured.err.split())
    assert "unknown group" in err and "Accepted forms" in err
    assert hint in err
    assert "Traceback" not in err and captured.out == ""


def test_unknown_name_with_typo_offers_did_you_mean(capsys):
    assert main(["group", "Z3xY5", "--json"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "Did you mean Z3xZ5" in err


# ---------------------------------------------------------------------- invalid Cayley tables
#: The smallest non-associative loop (order 5): a Latin square with identity 0 and inverses.
LOOP5 = [[0, 1, 2, 3, 4], [1, 0, 3, 4, 2], [2, 4, 0, 1, 3], [3, 2, 4, 0, 1], [4, 3, 1, 2, 0]]


@pytest.mark.parametrize("table,axiom", [
    ([[0, 1], [1, 2]], "closure"),
    ([[0, 1], [1, -1]], "closure"),
    ([[(i - j) % 3 for j in range(3)] for i in range(3)], "identity"),
    ([[0, 1, 2], [1, 1, 1], [2, 1, 2]], "inverses"),
    (LOOP5, "associativity"),
])
def test_invalid_tables_name_the_axiom(table, axiom):
    with pytest.raises(GroupAxiomError, match=axiom):
        Group.from_table(table)


@pytest.mark.parametrize("table,words", [
    ([[0, 1, 2], [1, 2, 0]], "square"),
    ([[0, 1.5], [1, 0]], "integer"),
    ([["e", "a"], ["a", "e"]], "labels"),
])
def test_malformed_tables_say_what_is_accepted(table, words):
    with pytest.raises(GroupAxiomError, match=words):
        Group.from_table(table)


def test_labelled_tables():
    G = Group.from_table([["e", "a"], ["a", "e"]], labels=["e", "a"])
    assert G.order == 2 and G.identity == 0
    with pytest.raises(GroupAxiomError, match="closure"):
        Group.from_table([["e", "a"], ["a", "b"]], labels=["e", "a"])


def test_group_lists_its_elements_by_class(capsys):
    # the help promises the elements; the table shows one representative per class
    assert main(["group", "S3"]) == 0
    out = capsys.readouterr().out
    assert "elements (6, by conjugacy class): e | (1 2), (0 1), (0 2) | (0 1 2), (0 2 1)" in out
    assert main(["group", "Q8"]) == 0
    assert "1 | -1 | i, -i | j, -j | k, -k" in capsys.readouterr().out
