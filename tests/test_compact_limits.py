"""The limits, measured (issue 24; docs/theory.md section 13, "The limits, measured"): finite subgroups and sampled
grids against band-limited compact groups, the counting -> Haar scaling of energies and of time, and the document's
tables regenerated."""
import json
import pathlib
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symflow.cli import main
from symflow.groups import group
from symflow.groups.compact.rotations import quadrature_rule, rotation_angle, so3_character
from symflow.groups.compact.subgroups import embedding
from symflow.neuron import bruteforce
from symflow.theory.compact import _basis, compact_rates, energy_tensor, in_orbit_rates
from symflow.theory.limits import (_expand, compact_rows, grid_energy_tensor, grid_rows, haar_scale, limits_sweep,
                                   sampled_grid, subgroup_rows, super_fibonacci)

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import limits_table  # noqa: E402


@pytest.mark.parametrize("name,L", [("SO(2)", 3), ("O(2)", 2), ("SO(3)", 2), ("O(3)", 1)])
def test_grid_tensor_on_an_exact_rule_is_the_quadrature_tensor(name, L):
    G = group(name, bandlimit=L)
    for o in G.orbits[1:]:
        band = G.irreps[o[0]].band
        assert np.allclose(grid_energy_tensor(G, o, *quadrature_rule(name, 2 * band)), energy_tensor(G, o),
                           atol=1e-12)


def _haar_velocity(T, x, y, z):
    om = np.einsum("ijk,i,j,k->", T, x, y, z)
    return (np.einsum("ijk,j,k->i", T, y, z) - om * x, np.einsum("ijk,i,k->j", T, x, z) - om * y,
            np.einsum("ijk,i,j->k", T, x, y) - om * z)


@pytest.mark.parametrize("n,k", [(8, 1), (8, 3), (7, 2)])
def test_time_scales_by_n_to_the_three_halves_brute_force(n, k):
    """The Cayley-table flow of Z_n at a random point of the chi_k span, mapped by u = sqrt(n) theta, moves at
    n^(-3/2) times the Haar flow of SO(2) (the quadrature tensor): tau = n^(-3/2) t."""
    C = group("SO(2)", bandlimit=k)
    orbit = C.orbits[k]
    H, mats = embedding("SO(2)", f"Z{n}")
    Phi = _basis(C, orbit, mats)                      # (n, 2): sqrt 2 cos, sqrt 2 sin on Z_n
    assert np.allclose(Phi.T @ Phi / n, np.eye(2))    # orthonormal for counting probability (n > 2k)
    rng = np.random.default_rng(n + k)
    x, y, z = (v / np.linalg.norm(v) for v in rng.normal(size=(3, 2)))   # xi, theta1, theta2 coefficients
    xi, t1, t2 = (Phi @ v / np.sqrt(n) for v in (x, y, z))               # unit vectors of R^n
    d1, d2, dxi = bruteforce.flow(H, t1, t2, xi)
    coeff = [Phi.T @ (np.sqrt(n) * d) / n for d in (dxi, d1, d2)]
    haar = _haar_velocity(energy_tensor(C, orbit), x, y, z)
    for c, h in zip(coeff, haar):
        assert np.allclose(c, h / haar_scale(n), atol=1e-14)
    assert np.isclose(bruteforce.omega(H, t1, t2, xi) * haar_scale(n), np.einsum("ijk,i,j,k->", energy_tensor(C, orbit),
                                                                                  x, y, z))


def test_scaled_exact_spectrum_of_z8_is_so2s():
    """n^(3/2) times Z_8's exact tangent spectrum (symflow.theory.rates) on chi_1 equals SO(2)'s compact rates."""
    from symflow.theory.model import Model
    from symflow.theory.rates import spectrum

    s = spectrum(Model("Z8"), 1, verify=True)
    finite = sorted((round(m.rate * 8 ** 1.5, 9), m.multiplicity) for m in s.modes
                    if not m.mode.startswith(("losing", "trivial")))
    C = group("SO(2)", bandlimit=1)
    om = 2 ** -0.5
    compact = sorted((round(r * om, 9), m) for r, m in in_orbit_rates(C, C.orbits[1]).items())
    assert finite == compact
    assert np.isclose(float(s.omega_star) * haar_scale(8), om)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 12), st.integers(3, 200))
def test_zn_orbit_k_is_exactly_so2s_for_n_above_2k(k, n):
    C = group("SO(2)", bandlimit=k)
    row = subgroup_rows(C, f"Z{n}")["orbits"][k - 1]
    if n > 2 * k:
        assert row["status"] == "exact"
        assert row["energy_error"] < 1e-12 and row["rate_error"] < 1e-12
    elif n == 2 * k:
        assert row["status"] == "type change" and abs(row["scaled_omega_star"] - 1) < 1e-12
    else:
        assert row["status"] in ("aliased", "type change", "invisible")


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 8), st.integers(3, 100))
def test_dn_orbit_k_is_exactly_o2s_for_n_above_2k(k, n):
    C = group("O(2)", bandlimit=k)
    rows = subgroup_rows(C, f"D{n}")["orbits"]
    assert rows[0]["status"] == "exact" and rows[0]["energy_error"] < 1e-12      # psi_{1,0} -> sign
    row = rows[k]
    if n > 2 * k:
        assert row["status"] == "exact" and row["energy_error"] < 1e-12 and row["rate_error"] < 1e-12
    elif n == 2 * k:
        assert row["status"] == "split"


def test_polyhedral_groups_match_only_the_low_bands():
    C = group("SO(3)", bandlimit=3)
    status = {s: [o["status"] for o in subgroup_rows(C, s)["orbits"]] for s in ("A4", "S4", "A5")}
    assert status == {"A4": ["exact", "split", "split"], "S4": ["exact", "split", "split"],
                      "A5": ["exact", "exact", "split"]}


def test_super_fibonacci_is_low_discrepancy():
    """Weyl sums of the characters: the super-Fibonacci grid integrates chi_l far better than random points."""
    for N in (1000, 10000):
        E = super_fibonacci(N)
        R = group("SO(3)", bandlimit=0).random_elements(N, 0)
        assert np.allclose(E @ np.swapaxes(E, 1, 2), np.eye(3), atol=1e-12)
        for l in (1, 2):
            assert abs(so3_character(l, rotation_angle(E)).mean()) < 5 / N ** 0.9
        assert abs(so3_character(2, rotation_angle(R)).mean()) > abs(so3_character(2, rotation_angle(E)).mean())


def test_grid_errors_fall_with_size_and_vanish_on_exact_rules():
    C = group("SO(3)", bandlimit=1)
    small, large = (grid_rows(C, "fibonacci", N, max_band=1)["orbits"][0] for N in (100, 1000))
    assert large["energy_error"] < small["energy_error"] / 5 and large["rate_error"] < small["rate_error"] / 5
    assert max(r for r, _ in large["rates"]) < 0       # the grid breaks the symmetry: no zero modes left
    exact = grid_rows(C, "gauss-legendre", 2)["orbits"][0]
    assert exact["energy_error"] < 1e-12 and exact["rate_error"] < 1e-12
    E, w = sampled_grid("O(2)", "fibonacci", 10)
    assert len(w) == 20 and np.isclose(w.sum(), 1)


def test_rates_on_a_one_dimensional_real_orbit():
    """O(2)'s psi_{1,0} (and O(3)'s D^0-) has no in-orbit tangent direction (this raised before)."""
    out = compact_rates(group("O(2)", bandlimit=1))
    assert out["orbits"][0]["irreps"] == ["psi_{1,0}"] and out["orbits"][0]["stable"]
    assert [r["omega_star"] for r in compact_rows(group("O(3)", bandlimit=0))] == [1.0]


def test_the_document_holds_the_regenerated_tables():
    doc = limits_table.DOC.read_text()
    assert limits_table.BEGIN in doc and limits_table.END in doc
    small = limits_table.subgroup_tables(nmax=16, shown=(3, 4, 5, 6, 7, 8, 9, 16))   # the n <= 16 rows
    for line in small + limits_table.grid_tables(kinds=("gauss-legendre",)):
        if not line.startswith("Over all of"):
            assert line in doc, line


def test_cli_json_and_refusals(capsys):
    assert main(["limits", "SO(2)", "--bandlimit", "2", "--nmax", "6", "--sizes", "50", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"group", "bandlimit", "seed", "nmax", "versions", "normalisation", "scaling", "compact", "subgroups",
            "grids", "slopes", "grid_max_band"} <= set(data)
    assert [s["subgroup"] for s in data["subgroups"]] == ["Z3", "Z4", "Z5", "Z6"]
    assert [(g["kind"], g["size"]) for g in data["grids"]] == [("random", 50), ("fibonacci", 50)]
    assert main(["limits", "SO(3)", "--bandlimit", "1", "--sizes", "none"]) == 0
    assert "A5" in capsys.readouterr().out
    for argv in (["limits", "Z5"], ["limits", "SO(3)"], ["limits", "SO(2)", "--bandlimit", "2", "--nmax", "2"],
                 ["limits", "SO(2)", "--bandlimit", "2", "--sizes", "0"],
                 ["limits", "SO(2)", "--bandlimit", "2", "--sizes", "10,x"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err


def test_sweep_bandlimit_zero_has_no_orbits():
    data = limits_sweep("SO(3)", 0, grids=[])
    assert data["compact"] == [] and all(s["orbits"] == [] for s in data["subgroups"])
    assert np.allclose(_expand([[1.0, 2]]), [1.0, 1.0])


def test_a_grid_too_large_for_the_memory_is_refused_before_computing(monkeypatch, capsys):
    monkeypatch.setenv("SYMFLOW_MEMORY", "100MB")
    assert main(["limits", "SO(3)", "--bandlimit", "3", "--sizes", "1000000"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--sizes" in err and "--force" in err


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 10), st.integers(3, 60))
def test_the_uniform_circle_grid_is_z_n_and_exact_below_nyquist(k, N):
    """The uniform grid of N points on the circle is Z_N: its grid energy tensor on chi_k (integrand frequencies 0 and
    +-2k) is the Haar one exactly when N does not divide 2k: always for N > 2k, also for the aliased orbits below,
    and not for the type changes (N = 2k, or N | 2k) and the invisible ones (N | k)."""
    C = group("SO(2)", bandlimit=k)
    E, w = sampled_grid("SO(2)", "gauss-legendre", N - 1)
    T = grid_energy_tensor(C, C.orbits[k], E, w)
    exact = np.allclose(T, energy_tensor(C, C.orbits[k]), atol=1e-12)
    assert exact == ((2 * k) % N != 0)
    if N > 2 * k:
        assert exact
