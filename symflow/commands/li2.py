"""``symflow li2 NAME``: Li2's local maxima (energy per irrep orbit, flat dimension, stability, basin).

``--json`` prints the public contract::

    {"group", "order", "activation", "fraction", "starts", "seed", "unconverged", "wall_time", "version",
     "maxima": [{"orbit": [irrep labels] | ["mixed"], "dim", "type", "energy", "energy_exact", "predicted",
                 "flat_dimension", "stable", "basin": {"count", "fraction", "ci95": [lo, hi]},
                 "structure": {"support_share", "split_u", "rank", "alignment"}, "spectrum": [tangent eigenvalues]}],
     "nodes": {... only with --nodes: per orbit the node count of a perfect least-squares fit ("nodes"), the
               dimension of the maxima's feature span ("feature_span") and Li2's Thm 3 count ("thm3_nodes",
               2 c d^4, c complex irreps); "total", "thm3_total" (2 sum_{k != 0} d_k^4), "thm3_bound";
               with --trained also "trained": the smallest width at which the trained network fits the table},
     "memorisation": {... only with --memorisation: per activation (x^2, x^3, relu, silu, tanh) Thm 5's criterion
                      phi = sigma'(x)/x, the regime measured in Thm 5's setting and on the full table, the verdict},
     "paper_constant": {... only with --check: the derived 2/n vs the paper's 1/(2n) against brute force}}

``--fraction P`` uses a seeded random ``P`` of the table (the empirical energy); ``energy_exact`` and
``predicted`` are the full-table closed forms ``n/(2d)`` (real), ``n/(4d)`` (complex pair, quaternionic).
"""
from __future__ import annotations

import json

from . import options


def register(sub):
    p = sub.add_parser("li2", help="Li2's energy maxima for a group (full table or a training fraction)",
                       description="Seeded random starts brought to local maxima of Li2's per-node energy "
                                   "E(w) = 1/2 ||Y~^T sigma(X w)||^2 on the unit sphere; kinds by orbit support and "
                                   "energy, with the derived closed forms, flat dimension, tangent spectrum, "
                                   "structure of the maximisers and basin fractions.")
    options.group_name(p)
    p.add_argument("--fraction", default="1", help="share of the n^2 table used for training (default 1)")
    options.activation(p, "x^2", "x^2 (also quad, z^2), x^3, relu, silu, tanh or a polynomial in z such as 'z^2+z^3'")
    options.starts(p, 128)
    options.seed(p, what="the starts and of the training subset")
    p.add_argument("--nodes", action="store_true",
                   help="also count the nodes a perfect fit needs, beside Li2's Thm 3 count 2 sum d_k^4")
    p.add_argument("--trained", action="store_true",
                   help="with --nodes: also the smallest width at which the trained Li2 network fits the whole table "
                        "(3 seeds, Adam lr 0.01, no weight decay, 3000 steps)")
    p.add_argument("--memorisation", action="store_true",
                   help="also Thm 5: focused or spreading memorisation per activation against phi = sigma'(x)/x")
    p.add_argument("--check", action="store_true", help="also check the energy constant against brute force")
    options.json_flag(p)
    options.force(p)
    options.runs(p, run)


def run(args) -> int:
    from ..groups import group
    from ..li2.core import check_activation
    from ..li2.maxima import maxima, maxima_json
    from ..errors import SymflowError
    from ..validation import real

    try:
        fraction = float(args.fraction)
    except ValueError:
        raise SymflowError(f"--fraction must be a number in (0, 1], got {args.fraction!r}") from None
    real(fraction, "--fraction", what="a number in (0, 1]")
    starts, seed = args.starts, args.seed
    act = check_activation(args.activation)
    G = group(args.name)
    res = maxima(G, fraction=fraction, activation=act, starts=starts, seed=seed)
    data = maxima_json(res)
    if args.nodes:
        from ..li2.fit import perfect_fit_nodes

        data["nodes"] = perfect_fit_nodes(G, seed=seed)
        if args.trained:
            from ..li2.fit import trained_perfect_fit_width

            top = 2 * max(data["nodes"]["total"], data["nodes"]["thm3_total"])
            data["nodes"]["trained"] = trained_perfect_fit_width(G.name, range(1, top + 1))
    elif args.trained:
        raise SymflowError("--trained needs --nodes (it compares the trained network with the node counts)")
    if args.memorisation:
        from ..li2.memorisation import regimes

        data["memorisation"] = regimes(G, starts=32, seed=seed)
    if args.check:
        from ..li2.derive import paper_constant_check

        data["paper_constant"] = paper_constant_check(G, seed=seed)
    if args.json:
        print(json.dumps(data))
        return 0
    print_table(G, data)
    return 0


def print_table(G, data, console=None) -> None:
    from rich import box
    from rich.table import Table

    from ..groups.display import rich_console
    from ..landscape.display import TYPE_LETTER

    console = console or rich_console()
    console.print(f"[bold]{G.name}[/] (n = {G.order}): Li2, sigma = {data['activation']}, fraction {data['fraction']:.4g} "
                  f"of the table; {data['starts']} starts (seed {data['seed']}), {data['wall_time']:.1f} s",
                  highlight=False)
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("orbit", "d", "energy", "predicted", "flat", "stable", "split u", "rank", "align", "basin, 95% CI"):
        t.add_column(col, justify="left" if col == "orbit" else "right")
    for m in data["maxima"]:
        b = m["basin"]
        t.add_row(", ".join(m["orbit"]), f"{m['dim']}{TYPE_LETTER.get(m['type'], '?')}" if m["dim"] else "-",
                  m["energy_exact"] or f"{m['energy']:.8g}", "-" if m["predicted"] is None else f"{m['predicted']:.6g}",
                  str(m["flat_dimension"]), "yes" if m["stable"] else "[red]no[/]", f"{m['structure']['split_u']:.3f}",
                  str(m["structure"]["rank"]), f"{m['structure']['alignment']:.3f}",
                  f"{b['fraction']:.1%} ({100 * b['ci95'][0]:.1f}-{100 * b['ci95'][1]:.1f})")
    console.print(t)
    if data["unconverged"]:
        console.print(f"{data['unconverged']} starts did not converge", style="yellow")
    if "nodes" in data:
        nd = data["nodes"]
        console.print("nodes for a perfect least-squares fit (generic maxima): " +
                      ", ".join(f"{o['orbit']} {o['nodes']}" for o in nd["orbits"]) +
                      f"; total {nd['total']} (residual {nd['residual']:.1e})", highlight=False)
        t = Table(box=box.SIMPLE_HEAD, pad_edge=False, title="Thm 3 side by side")
        for col in ("orbit", "d", "complex irreps", "least squares (generic maxima)", "feature span", "Thm 3: 2 c d^4"):
            t.add_column(col, justify="left" if col == "orbit" else "right")
        for o in nd["orbits"]:
            t.add_row(o["orbit"], f"{o['dim']}{TYPE_LETTER.get(o['type'], '?')}", str(o["complex_irreps"]),
                      str(o["nodes"]), str(o["feature_span"]), str(o["thm3_nodes"]))
        t.add_row("total", "", "", str(nd["total"]), "", f"{nd['thm3_total']} (bound {nd['thm3_bound']})")
        console.print(t)
        if "trained" in nd:
            tr, b = nd["trained"], nd["trained"]["training"]
            console.print(f"trained network (whole table, Adam lr {b['lr']}, weight decay {b['weight_decay']}, "
                          f"{b['steps']} steps, seeds {b['seeds']}): relative MSE <= {tr['tolerance']:g} from width "
                          f"{tr['width_mse']} (every seed: {tr['width_all_seeds']}); also train accuracy 1 (argmax of the raw "
                          f"output): {tr['width_perfect'] or 'none in the scan'}", highlight=False)
    if "memorisation" in data:
        t = Table(box=box.SIMPLE_HEAD, pad_edge=False, title="Thm 5: memorisation of one target")
        for col in ("activation", "phi = sigma'(x)/x", "predicted", "measured (Thm 5 setting)", "participation",
                    "verdict", "full table (centred)"):
            t.add_column(col, justify="left" if col == "activation" else "right")
        for act, m in data["memorisation"]["activations"].items():
            t.add_row(act, m["criterion"]["phi"], str(m["criterion"]["predicted"]), m["thm5"]["regime"],
                      f"{m['thm5']['participation_median']:.2f}", m["verdict"],
                      f"{m['regime']} ({m['participation_median']:.2f})")
        console.print(t)
    if "paper_constant" in data:
        pc = data["paper_constant"]
        console.print(f"energy constant: derived {pc['derived_constant']} (rel. error vs brute force "
                      f"{pc['derived_rel_error']:.1e}), paper {pc['paper_constant']} ({pc['paper_rel_error']:.2f}); "
                      f"brute force confirms: {pc['confirmed']}", highlight=False)
    console.print("d: irrep dimension and type; energy: exact when it matches the derived closed form n/(2d) (real) or "
                  "n/(4d) (complex pair, quaternionic); flat: zero modes of the tangent Hessian; split u: |u|^2 share; "
                  "rank: of the Fourier block U; align: ||UV|| / (||U|| ||V||); basin: share of the starts, 95% Wilson "
                  "interval", style="dim", highlight=False)
