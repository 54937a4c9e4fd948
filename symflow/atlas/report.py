"""The atlas report: ``atlas.md``, a self-contained ``index.html`` and ``figures/*.png``, from the database.

``index.html`` needs no server: its two tables (groups, attractors) sort on a click of a column header
(again for descending) and filter on the text typed above them; the figures are inlined as PNG data URLs.
Figures (matplotlib, ``plot`` extra; without it the report says so and has none):

* ``basin_features.png``: basin fraction of each kind against its orbit's dimension, orbit size, type
  and energy ``Omega n^(3/2)``;
* ``not_rank_one.png``: per group and setting, the share of converged starts on kinds of rank > 1;
* ``omega_by_type.png``: ``Omega* n^(3/2)`` of every constructed kind by orbit type and dimension, with
  the theory's ``(k d)^(-1/2)`` (k = 1 real, 2 complex or quaternionic);
* ``predicted_basins.png``: the orbit predictor's basin fraction of every orbit against the measured one.

Predicted basins (docs/theory.md section 14, :mod:`symflow.atlas.predict`): a third table (``predicted``: per
group, setting and orbit the predicted fraction with its Monte Carlo interval, the share predicted on the task's
own starts, the measured share with its interval, the error, the Plancherel weight), two columns per setting in the
groups table (largest basin error, per-neuron agreement), and a summary (:func:`predictor_summary`, also
``predicted.json``): mean and largest ``|predicted - measured|`` per orbit, the pooled per-neuron agreement with its
Wilson interval, the failures, and the predictor next to the fitted description and the Plancherel weights.
"""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from .fit import compare_with_predictor, fit_basins
from .store import ATTRACTOR_COLUMNS, GROUP_COLUMNS, PREDICTED_COLUMNS, PREDICTOR_RUN_COLUMNS, AtlasStore

TYPES = ("real", "complex", "quaternionic")


def load(db) -> dict:
    """``{"groups": [dict], "attractors": [dict], "runs": [dict], "predicted": [dict]}`` from the database (a store
    written before the predictor: no predicted rows, its runs' predictor columns ``None``)."""
    with AtlasStore(db, read_only=True) as s:
        _, g = s.query(f'SELECT {", ".join(chr(34) + c + chr(34) for c in GROUP_COLUMNS)} FROM groups '
                       'ORDER BY "order", gap_id')
        _, a = s.query(f'SELECT {", ".join(chr(34) + c + chr(34) for c in ATTRACTOR_COLUMNS)} FROM attractors '
                       'ORDER BY "order", gap_id, setting, idx')
        extra = [c if s.has("runs", c) else f"NULL AS {c}" for c in PREDICTOR_RUN_COLUMNS]
        rc, r = s.query('SELECT "order", gap_id, setting, starts, seed, unconverged, wall_time, worker, error, '
                        f'versions, {", ".join(extra)} FROM runs ORDER BY "order", gap_id, setting')
        p = s.query(f'SELECT {", ".join(chr(34) + c + chr(34) for c in PREDICTED_COLUMNS)} FROM predicted_basins '
                    'ORDER BY "order", gap_id, setting, orbit_id = -1, orbit_id')[1] \
            if s.has("predicted_basins") else []
    return {"groups": [dict(zip(GROUP_COLUMNS, row)) for row in g],
            "attractors": [dict(zip(ATTRACTOR_COLUMNS, row)) for row in a],
            "runs": [dict(zip(rc, row)) for row in r],
            "predicted": [dict(zip(PREDICTED_COLUMNS, row)) for row in p]}


def _agreement(hits: int, neurons: int) -> dict:
    from ..statistics import wilson_interval

    lo, hi = wilson_interval(hits, neurons) if neurons else (None, None)
    return {"agree": hits, "neurons": neurons, "fraction": hits / neurons if neurons else None, "ci95": [lo, hi]}


def predictor_summary(data) -> dict:
    """The orbit predictor over the atlas: ``{"tasks", "tasks_without", "orbits", "error": {setting or "all":
    {"mean", "max", "within_0.02", "orbits", "worst"}}, "agreement": {setting or "all": pooled agreement with its
    Wilson interval}, "agreement_on": {"rank_above_one", "saddle", "dead"}, "worst_agreement", "confusion" (the
    most frequent failures), "comparison" (:func:`~symflow.atlas.fit.compare_with_predictor`)}``."""
    import numpy as np

    pred, runs = data.get("predicted", []), data["runs"]
    keys = {(p["order"], p["gap_id"], p["setting"]) for p in pred}
    ok_runs = [r for r in runs if not r["error"]]
    out = {"tasks": len(keys), "tasks_without": sum(1 for r in ok_runs if (r["order"], r["gap_id"], r["setting"])
                                                    not in keys), "orbits": len(pred), "error": {}, "agreement": {}}
    for setting in ("all", "unshared", "shared"):
        sel = [p for p in pred if setting in ("all", p["setting"])]
        if sel:
            err = np.array([abs(p["predicted"] - p["measured"]) for p in sel])
            worst = sel[int(np.argmax(err))]
            same = np.array([abs(p["predicted_same"] - p["measured"]) for p in sel if p["predicted_same"] is not None])
            half = np.array([(p["measured_hi"] - p["measured_lo"]) / 2 for p in sel])
            out["error"][setting] = {"mean": float(err.mean()), "max": float(err.max()), "orbits": len(sel),
                                     "within_0.02": int(np.sum(err <= 0.02)),
                                     "measured_half_width_median": float(np.median(half)),
                                     "same_starts": {"mean": float(same.mean()), "max": float(same.max()),
                                                     "orbits": int(same.size)} if same.size else None,
                                     "worst": {"order": worst["order"], "gap_id": worst["gap_id"],
                                               "setting": worst["setting"], "orbit": _orbit(worst) if worst["orbit"]
                                               else "dead", "predicted": worst["predicted"],
                                               "measured": worst["measured"]}}
        rs = [r for r in ok_runs if setting in ("all", r["setting"]) and r.get("agreement_neurons")]
        if rs:
            out["agreement"][setting] = dict(_agreement(sum(r["agreement_hits"] for r in rs),
                                                        sum(r["agreement_neurons"] for r in rs)), tasks=len(rs))
    details = [(r, json.loads(r["prediction"])) for r in ok_runs if r.get("prediction")]
    out["agreement_on"] = {k: _agreement(sum(d[k]["agree"] for _, d in details), sum(d[k]["neurons"] for _, d in details))
                           for k in ("rank_above_one", "saddle", "dead")}
    worst = min((r for r in ok_runs if r.get("agreement_neurons")), default=None,
                key=lambda r: r["agreement_hits"] / r["agreement_neurons"])
    out["worst_agreement"] = None if worst is None else {
        "order": worst["order"], "gap_id": worst["gap_id"], "setting": worst["setting"],
        **_agreement(worst["agreement_hits"], worst["agreement_neurons"])}
    confusion: dict = {}
    for r, d in details:
        for k, v in d["confusion"].items():
            confusion[f"SmallGroup({r['order']},{r['gap_id']}) {r['setting']}: {k}"] = v
    out["confusion"] = dict(sorted(confusion.items(), key=lambda kv: -kv[1])[:10])
    out["failures"] = int(sum(confusion.values()))
    out["comparison"] = compare_with_predictor(data["attractors"], pred) if pred else None
    return out


def _pct(x) -> str:
    return "n/a" if x is None else f"{x:.2%}"


def summary_line(summary) -> str:
    """One line for the terminal: the predicted basins' error and the per-neuron agreement over the atlas."""
    if not summary["tasks"]:
        return "predicted basins: none stored" + (f" ({summary['tasks_without']} tasks from an older symflow; --redo "
                                                  "recomputes them)" if summary["tasks_without"] else "")
    e, a = summary["error"]["all"], summary["agreement"].get("all")
    text = (f"predicted basins (orbit predictor) in {summary['tasks']} tasks: |predicted - measured| mean {e['mean']:.3f}, "
            f"largest {e['max']:.3f} over {e['orbits']} orbits")
    if a:
        text += (f"; per-neuron agreement {a['agree']}/{a['neurons']} = {_pct(a['fraction'])} "
                 f"[{_pct(a['ci95'][0])}, {_pct(a['ci95'][1])}]")
    return text


def _predictor_text(summary) -> list:
    if not summary["tasks"]:
        return ["No predicted basins stored" + (f" ({summary['tasks_without']} tasks were stored by an older symflow; "
                                                 "--redo recomputes them)" if summary["tasks_without"] else "") + "."]
    e = summary["error"]["all"]
    w = e["worst"]
    lines = [f"Predicted, from the orbit predictor (docs/theory.md section 14: each neuron's orbit from its start; "
             f"exact for unshared embeddings; for shared ones the exact coupled flow, then a frozen multiplier), by Monte Carlo on the "
             f"predictor over uniform starts, next to the measured shares: {summary['tasks']} tasks, {e['orbits']} "
             f"orbit rows" + (f" ({summary['tasks_without']} tasks stored by an older symflow have none; --redo "
                              f"recomputes them)" if summary["tasks_without"] else "") + ".",
             f"|predicted - measured| per orbit: mean {e['mean']:.3f}, largest {e['max']:.3f} (SmallGroup({w['order']},"
             f"{w['gap_id']}) {w['setting']} {w['orbit']}: {w['predicted']:.3f} against {w['measured']:.3f}); "
             f"{e['within_0.02']} of {e['orbits']} within 0.02 (median 95% Wilson half-width of the measured shares: "
             f"{e['measured_half_width_median']:.3f}, the measurement's own sampling)."]
    if e["same_starts"]:
        ss = e["same_starts"]
        lines.append(f"On the task's own starts (no sampling difference: the predictor's bias) the predicted shares "
                     f"differ from the measured by {ss['mean']:.3f} on average, largest {ss['max']:.3f} "
                     f"({ss['orbits']} orbit rows).")
    for setting in ("unshared", "shared"):
        if setting in summary["error"]:
            es = summary["error"][setting]
            lines.append(f"{setting.capitalize()}: mean {es['mean']:.3f}, largest {es['max']:.3f} over {es['orbits']} "
                         f"orbits.")
    a = summary["agreement"].get("all")
    if a:
        per = "; ".join(f"{s} {_pct(summary['agreement'][s]['fraction'])} [{_pct(summary['agreement'][s]['ci95'][0])}, "
                        f"{_pct(summary['agreement'][s]['ci95'][1])}]" for s in ("unshared", "shared")
                        if s in summary["agreement"])
        on = "; ".join(f"{k.replace('_', ' ')}: {v['agree']} of {v['neurons']}" for k, v in summary["agreement_on"].items()
                       if v["neurons"])
        wa = summary["worst_agreement"]
        lines.append(f"Per-neuron agreement (the predicted orbit of each converged start against the dominant orbit of "
                     f"the kind it reached, in {a['tasks']} tasks): {a['agree']} of {a['neurons']} = {_pct(a['fraction'])} "
                     f"(95% Wilson {_pct(a['ci95'][0])}-{_pct(a['ci95'][1])}); {per}. Lowest: SmallGroup({wa['order']},"
                     f"{wa['gap_id']}) {wa['setting']} {_pct(wa['fraction'])} ({wa['agree']} of {wa['neurons']})."
                     + (f" Among starts that ended on {on}." if on else ""))
        if summary["confusion"]:
            lines.append("Most frequent failures (predicted->measured): " +
                         "; ".join(f"{k} ({v})" for k, v in list(summary["confusion"].items())[:6]) + ".")
    c = summary["comparison"]
    if c:
        m = c["mae"]
        fmt = {k: "n/a" if v is None else f"{v:.3f}" for k, v in m.items()}
        mx = {k: "n/a" if v is None else f"{v:.3f}" for k, v in c["max_error"].items()}
        lines.append(f"Against the measured share of the converged starts, per orbit ({c['orbits']} orbits of "
                     f"{c['tasks']} tasks), mean (largest) absolute error: predictor {fmt['predictor']} "
                     f"({mx['predictor']}), fitted description {fmt['fit']} ({mx['fit']}) in sample and "
                     f"{fmt['fit_leave_group_out']} ({mx['fit_leave_group_out']}) with each group left out, Plancherel "
                     f"weights |O| d^2/(n-1) {fmt['plancherel']} ({mx['plancherel']}), equal shares {fmt['uniform']} "
                     f"({mx['uniform']}). The fit is a description fitted to these counts; the predictor and "
                     f"Plancherel are not fitted to them.")
    return lines


def not_rank_one(data) -> dict:
    """``{(order, gap_id, setting): share of converged starts on kinds of rank > 1}``."""
    out: dict = {}
    for r in data["attractors"]:
        key = (r["order"], r["gap_id"], r["setting"])
        tot, high = out.get(key, (0, 0))
        out[key] = (tot + r["count"], high + (r["count"] if r["rank"] > 1 else 0))
    return {k: (h / t if t else 0.0) for k, (t, h) in out.items()}


def write_figures(data, folder: Path) -> list:
    """Write the three figures; ``[(file name, caption)]`` (empty without matplotlib or rows)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    import numpy as np

    rows = data["attractors"]
    if not rows:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    colours = {"unshared": "tab:blue", "shared": "tab:orange"}
    out = []

    fig, axes = plt.subplots(1, 4, figsize=(16, 3.8), sharey=True)
    for setting, colour in colours.items():
        sel = [r for r in rows if r["setting"] == setting]
        if not sel:
            continue
        f = np.array([r["basin_fraction"] for r in sel])
        jit = rng.uniform(-0.15, 0.15, len(sel))
        axes[0].scatter(np.array([r["orbit_dim"] for r in sel]) + jit, f, s=9, alpha=0.6, c=colour, label=setting)
        axes[1].scatter(np.array([r["orbit_size"] for r in sel]) + jit, f, s=9, alpha=0.6, c=colour)
        axes[2].scatter(np.array([TYPES.index(r["type"]) for r in sel]) + jit, f, s=9, alpha=0.6, c=colour)
        axes[3].scatter([r["energy"] * r["order"] ** 1.5 for r in sel], f, s=9, alpha=0.6, c=colour)
    axes[0].set_xlabel("irrep dimension d")
    axes[1].set_xlabel("orbit size |O|")
    axes[2].set_xticks(range(3), TYPES)
    axes[2].set_xlabel("type")
    axes[3].set_xlabel("energy Omega n^(3/2)")
    axes[0].set_ylabel("basin fraction")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "basin_features.png", dpi=90)
    plt.close(fig)
    out.append(("basin_features.png", "Basin fraction of every kind against its orbit's features (jittered)."))

    share = not_rank_one(data)
    keys = sorted(share)
    fig, ax = plt.subplots(figsize=(max(8, 0.09 * len(keys)), 3.6))
    for setting, colour in colours.items():
        idx = [i for i, k in enumerate(keys) if k[2] == setting]
        ax.bar(idx, [share[keys[i]] for i in idx], color=colour, label=setting, width=0.9)
    ticks = list(range(0, len(keys), max(1, len(keys) // 30)))
    ax.set_xticks(ticks, [f"{keys[i][0]},{keys[i][1]}" for i in ticks], rotation=90, fontsize=7)
    ax.set_ylabel("share on rank > 1 kinds")
    ax.set_xlabel("SmallGroup (order, id)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "not_rank_one.png", dpi=90)
    plt.close(fig)
    out.append(("not_rank_one.png", "Per group and setting: share of converged starts on kinds that are not rank one."))

    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    markers = {"real": "o", "complex": "s", "quaternionic": "^"}
    for typ in TYPES:
        sel = [r for r in rows if r["type"] == typ and r["source"] == "constructed"]
        if sel:
            ax.scatter(np.array([r["orbit_dim"] for r in sel]) + rng.uniform(-0.1, 0.1, len(sel)),
                       [r["energy"] * r["order"] ** 1.5 for r in sel], marker=markers[typ], s=16, alpha=0.6,
                       label=typ)
    d = np.linspace(1, max(r["orbit_dim"] for r in rows) + 0.5, 100)
    ax.plot(d, d ** -0.5, "k-", lw=0.8, label="(d)^(-1/2): k = 1")
    ax.plot(d, (2 * d) ** -0.5, "k--", lw=0.8, label="(2d)^(-1/2): k = 2")
    ax.set_xlabel("irrep dimension d")
    ax.set_ylabel("Omega* n^(3/2)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "omega_by_type.png", dpi=90)
    plt.close(fig)
    out.append(("omega_by_type.png", "Omega* n^(3/2) of every constructed kind by orbit type and dimension, with "
                                     "the theory's (k d)^(-1/2)."))

    pred = data.get("predicted", [])
    if pred:
        fig, ax = plt.subplots(figsize=(5.2, 4.6))
        for setting, colour in colours.items():
            sel = [p for p in pred if p["setting"] == setting]
            if sel:
                m = np.array([p["measured"] for p in sel])
                ax.errorbar(m, [p["predicted"] for p in sel],
                            xerr=[m - np.array([p["measured_lo"] for p in sel]),
                                  np.array([p["measured_hi"] for p in sel]) - m],
                            fmt="o", ms=3, alpha=0.5, elinewidth=0.5, color=colour, label=setting)
        top = max(max(p["predicted"] for p in pred), max(p["measured"] for p in pred)) * 1.05
        ax.plot([0, top], [0, top], "k-", lw=0.8)
        ax.set_xlabel("measured basin fraction (95% Wilson)")
        ax.set_ylabel("predicted (orbit predictor, Monte Carlo)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(folder / "predicted_basins.png", dpi=90)
        plt.close(fig)
        out.append(("predicted_basins.png", "Predicted basin fraction of every orbit (the orbit predictor, Monte Carlo "
                                            "over uniform starts) against the measured one; the diagonal is agreement."))
    return out


def _orbit(r) -> str:
    return "{" + ", ".join(r["orbit"]) + "}" if r["orbit"] else "trivial"


def _fit_text(fit) -> list:
    if fit is None:
        return ["Too few tasks with two or more kinds to fit basin fractions."]
    w = ", ".join(f"{k}: {v:+.3f}" for k, v in fit["weights"].items())
    loo = "n/a (one group)" if fit["mae_leave_group_out"] is None else f"{fit['mae_leave_group_out']:.3f}"
    return [f"Measured, not a theorem: basin fractions of the {fit['kinds']} kinds of {fit['tasks']} tasks (those "
            f"with two or more kinds) fitted by a multinomial logit p_i = exp(w.f_i) / sum_j exp(w.f_j) over the "
            f"kinds of each task.",
            f"Weights: {w}.",
            f"Mean absolute error of the fractions: {fit['mae']:.3f} in sample (largest {fit['max_error']:.3f}), "
            f"{loo} with each group left out of the fit; the baseline 'equal shares' has {fit['mae_uniform']:.3f}."]


def _task_predictions(data) -> dict:
    """``{(order, gap_id, setting): (largest |predicted - measured|, agreement fraction or None)}``."""
    out: dict = {}
    for p in data.get("predicted", []):
        key = (p["order"], p["gap_id"], p["setting"])
        out[key] = max(out.get(key, 0.0), abs(p["predicted"] - p["measured"]))
    agree = {(r["order"], r["gap_id"], r["setting"]): r["agreement_hits"] / r["agreement_neurons"]
             for r in data["runs"] if r.get("agreement_neurons")}
    return {k: (v, agree.get(k)) for k, v in out.items()}


def markdown(data, figures, fit, summary=None) -> str:
    groups, rows, runs = data["groups"], data["attractors"], data["runs"]
    summary = predictor_summary(data) if summary is None else summary
    per_task = _task_predictions(data)
    failed = [r for r in runs if r["error"]]
    share = not_rank_one(data)
    lines = ["# Atlas of small groups", "",
             f"{len(groups)} groups, {len({(r['order'], r['gap_id'], r['setting']) for r in rows})} tasks with rows, "
             f"{len(rows)} kinds, {len(failed)} failed tasks. Each task: the landscape of one neuron (CE loss, "
             "sigma = z**2, separate spheres) from seeded random starts (`symflow landscape`). The trivial group "
             "is skipped.", ""]
    if runs:
        starts = sorted({r["starts"] for r in runs})
        seeds = sorted({r["seed"] for r in runs})
        versions = json.loads(runs[-1]["versions"] or "{}")
        lines += [f"Starts per task: {', '.join(map(str, starts))}; seed: {', '.join(map(str, seeds))}; "
                  f"versions: {', '.join(f'{k} {v}' for k, v in versions.items())}.", ""]
    lines += ["## Groups", "", "| order | id | structure | abelian | classes | irrep dims | setting | kinds | "
              "largest basin | not rank one | predicted - measured (largest) | per-neuron agreement |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    by_task: dict = {}
    for r in rows:
        by_task.setdefault((r["order"], r["gap_id"], r["setting"]), []).append(r)
    for g in groups:
        for setting in ("unshared", "shared"):
            kinds = by_task.get((g["order"], g["gap_id"], setting))
            if not kinds:
                continue
            top = max(kinds, key=lambda r: r["basin_fraction"])
            lines.append(f"| {g['order']} | {g['gap_id']} | {g['structure']} | {'yes' if g['abelian'] else 'no'} | "
                         f"{g['n_classes']} | {','.join(map(str, g['irrep_dims']))} | {setting} | {len(kinds)} | "
                         f"{_orbit(top)} {top['basin_fraction']:.1%} | "
                         f"{share[(g['order'], g['gap_id'], setting)]:.1%} | {_task_cells(per_task, g, setting)} |")
    lines += ["", "## Basin fractions: predicted by the orbit predictor", ""] + _predictor_text(summary) + [""]
    lines += ["## Basin fractions: a fitted description", ""] + _fit_text(fit) + [""]
    if failed:
        lines += ["## Failed tasks", ""] + [f"- SmallGroup({r['order']},{r['gap_id']}) {r['setting']}: {r['error']}"
                                            for r in failed] + [""]
    if figures:
        lines += ["## Figures", ""] + [f"![{cap}](figures/{name})\n\n{cap}\n" for name, cap in figures]
    else:
        lines += ["No figures (matplotlib is not installed: install the plot extra, or no rows yet).", ""]
    lines += ["The full tables are in the database (`symflow atlas --query`) and in `index.html`."]
    return "\n".join(lines) + "\n"


def _task_cells(per_task, g, setting) -> str:
    err, agree = per_task.get((g["order"], g["gap_id"], setting), (None, None))
    return f"{'' if err is None else f'{err:.3f}'} | {'' if agree is None else f'{agree:.1%}'}"


PAGE_SCRIPT = """
function cellValue(td){const v=td.getAttribute('data-v');if(v!==null&&v!==''&&!isNaN(Number(v)))return Number(v);
 return td.textContent.trim().toLowerCase();}
function sortBy(th){const table=th.closest('table');const body=table.tBodies[0];
 const col=Array.from(th.parentNode.children).indexOf(th);const asc=th.getAttribute('data-dir')!=='asc';
 table.querySelectorAll('th').forEach(h=>h.removeAttribute('data-dir'));th.setAttribute('data-dir',asc?'asc':'desc');
 const rows=Array.from(body.rows);rows.sort((a,b)=>{const x=cellValue(a.cells[col]),y=cellValue(b.cells[col]);
  if(x<y)return asc?-1:1;if(x>y)return asc?1:-1;return 0;});rows.forEach(r=>body.appendChild(r));}
function filterRows(input){const table=document.getElementById(input.getAttribute('data-table'));
 const q=input.value.trim().toLowerCase();let shown=0;Array.from(table.tBodies[0].rows).forEach(r=>{
  const ok=!q||r.textContent.toLowerCase().includes(q);r.style.display=ok?'':'none';if(ok)shown++;});
 document.getElementById(input.getAttribute('data-table')+'-count').textContent=shown;}
document.querySelectorAll('th').forEach(th=>th.addEventListener('click',()=>sortBy(th)));
document.querySelectorAll('input.filter').forEach(i=>i.addEventListener('input',()=>filterRows(i)));
"""

PAGE_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;font-size:13px;margin:.5em 0 2em}
th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#eee;cursor:pointer;user-select:none}
th[data-dir=asc]::after{content:' \\25B2'}th[data-dir=desc]::after{content:' \\25BC'}td.t{text-align:left}
img{max-width:100%;border:1px solid #ddd;margin:.5em 0}input.filter{width:24em;padding:3px}
"""


def _cell(value, text=None, left=False) -> str:
    v = "" if value is None else (str(int(value)) if isinstance(value, bool) else str(value))
    shown = html.escape(text if text is not None else ("" if value is None else str(value)))
    return f'<td data-v="{html.escape(v)}"{" class=t" if left else ""}>{shown}</td>'


def page(data, figures, fit, folder: Path, summary=None) -> str:
    groups, rows = data["groups"], data["attractors"]
    summary = predictor_summary(data) if summary is None else summary
    per_task = _task_predictions(data)
    share = not_rank_one(data)
    kinds: dict = {}
    for r in rows:
        kinds[(r["order"], r["gap_id"], r["setting"])] = kinds.get((r["order"], r["gap_id"], r["setting"]), 0) + 1
    gh = ["order", "id", "structure", "abelian", "classes", "irrep dims", "kinds unshared", "kinds shared",
          "not rank one (unshared)", "not rank one (shared)", "predicted - measured (unshared)",
          "predicted - measured (shared)", "agreement (unshared)", "agreement (shared)"]
    grows = []
    for g in groups:
        k = (g["order"], g["gap_id"])
        su, ss = share.get(k + ("unshared",)), share.get(k + ("shared",))
        grows.append("<tr>" + "".join([
            _cell(g["order"]), _cell(g["gap_id"]), _cell(g["structure"], left=True),
            _cell(g["abelian"], "yes" if g["abelian"] else "no"), _cell(g["n_classes"]),
            _cell(None, ",".join(map(str, g["irrep_dims"])), left=True),
            _cell(kinds.get(k + ("unshared",), 0)), _cell(kinds.get(k + ("shared",), 0)),
            _cell(su, "" if su is None else f"{su:.1%}"), _cell(ss, "" if ss is None else f"{ss:.1%}")]
            + [_cell(v, "" if v is None else f"{v:.3f}") for v in (per_task.get(k + (st,), (None, None))[0]
                                                                    for st in ("unshared", "shared"))]
            + [_cell(v, "" if v is None else f"{v:.1%}") for v in (per_task.get(k + (st,), (None, None))[1]
                                                                   for st in ("unshared", "shared"))]) + "</tr>")
    structure = {(g["order"], g["gap_id"]): g["structure"] for g in groups}
    ah = ["order", "id", "structure", "setting", "orbit", "d", "|O|", "type", "energy", "exact", "Omega n^1.5", "rank",
          "family dim", "stable", "slowest rate", "fastest rate", "basin", "95% CI", "source"]
    arows = []
    for r in rows:
        arows.append("<tr>" + "".join([
            _cell(r["order"]), _cell(r["gap_id"]), _cell(structure.get((r["order"], r["gap_id"]), ""), left=True),
            _cell(r["setting"], left=True), _cell(None, _orbit(r), left=True), _cell(r["orbit_dim"]),
            _cell(r["orbit_size"]), _cell(r["type"], left=True), _cell(r["energy"], f"{r['energy']:.6g}"),
            _cell(None, r["energy_exact"] or "", left=True),
            _cell(r["energy"] * r["order"] ** 1.5, f"{r['energy'] * r['order'] ** 1.5:.4g}"), _cell(r["rank"]),
            _cell(r["family_dimension"]), _cell(r["stable"], "yes" if r["stable"] else "saddle"),
            _cell(r["slowest_rate"], "" if r["slowest_rate"] is None else f"{r['slowest_rate']:.4g}"),
            _cell(r["fastest_rate"], "" if r["fastest_rate"] is None else f"{r['fastest_rate']:.4g}"),
            _cell(r["basin_fraction"], f"{r['basin_fraction']:.1%}"),
            _cell(r["basin_lo"], f"{r['basin_lo']:.1%}-{r['basin_hi']:.1%}"), _cell(r["source"], left=True)]) + "</tr>")

    ph = ["order", "id", "structure", "setting", "orbit", "d", "|O|", "type", "predicted", "predicted 95% CI",
          "predicted on the task's starts", "measured", "measured 95% CI", "predicted - measured", "Plancherel", "kinds"]
    prows = []
    for p in data.get("predicted", []):
        err = p["predicted"] - p["measured"]
        prows.append("<tr>" + "".join([
            _cell(p["order"]), _cell(p["gap_id"]), _cell(structure.get((p["order"], p["gap_id"]), ""), left=True),
            _cell(p["setting"], left=True), _cell(None, _orbit(p) if p["orbit"] else "dead", left=True),
            _cell(p["orbit_dim"]), _cell(p["orbit_size"]), _cell(p["type"], left=True),
            _cell(p["predicted"], f"{p['predicted']:.1%}"),
            _cell(p["predicted_lo"], f"{p['predicted_lo']:.1%}-{p['predicted_hi']:.1%}"),
            _cell(p["predicted_same"], "" if p["predicted_same"] is None else f"{p['predicted_same']:.1%}"),
            _cell(p["measured"], f"{p['measured']:.1%}"),
            _cell(p["measured_lo"], f"{p['measured_lo']:.1%}-{p['measured_hi']:.1%}"),
            _cell(err, f"{err:+.3f}"), _cell(p["plancherel"], f"{p['plancherel']:.3f}"), _cell(p["kinds"])]) + "</tr>")

    def table(tid, head, body, what):
        return (f'<p><input class="filter" data-table="{tid}" placeholder="filter {what} (any text)"> '
                f'<span id="{tid}-count">{len(body)}</span> {what} shown; click a header to sort</p>'
                f'<table id="{tid}"><thead><tr>' + "".join(f"<th>{html.escape(h)}</th>" for h in head) +
                "</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table>")

    imgs = []
    for name, cap in figures:
        b64 = base64.b64encode((folder / "figures" / name).read_bytes()).decode()
        imgs.append(f'<figure><img alt="{html.escape(cap)}" src="data:image/png;base64,{b64}">'
                    f"<figcaption>{html.escape(cap)}</figcaption></figure>")
    md_intro = markdown(data, [], fit, summary).split("\n\n")[1]
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>symflow atlas</title>"
            f"<style>{PAGE_STYLE}</style></head><body><h1>Atlas of small groups</h1><p>{html.escape(md_intro)}</p>"
            "<h2>Groups</h2>" + table("groups", gh, grows, "groups") +
            "<h2>Attractors</h2>" + table("attractors", ah, arows, "kinds") +
            "<h2>Basin fractions: predicted by the orbit predictor</h2>" +
            "".join(f"<p>{html.escape(t)}</p>" for t in _predictor_text(summary)) +
            table("predicted", ph, prows, "orbits") +
            "<h2>Basin fractions: a fitted description</h2>" + "".join(f"<p>{html.escape(t)}</p>" for t in _fit_text(fit)) +
            "<h2>Figures</h2>" + ("".join(imgs) or "<p>No figures (matplotlib is not installed).</p>") +
            f"<script>{PAGE_SCRIPT}</script></body></html>")


def write_report(db, out, force: bool = False, parameters: dict | None = None) -> Path:
    """Write ``atlas.md``, ``index.html`` and ``figures/`` for database ``db`` into the folder ``out``
    (an :class:`~symflow.outputs.OutputFolder` of kind ``atlas``); returns its path."""
    from ..outputs import OutputFolder

    folder = OutputFolder(out, "atlas", dict(parameters or {}, db=str(db)), force=force)
    data = load(db)
    fit = fit_basins(data["attractors"])
    summary = predictor_summary(data)
    with folder as stage:
        stage = Path(stage)
        figures = write_figures(data, stage / "figures")
        (stage / "atlas.md").write_text(markdown(data, figures, fit, summary))
        (stage / "index.html").write_text(page(data, figures, fit, stage, summary))
        (stage / "fit.json").write_text(json.dumps(fit, indent=1))
        (stage / "predicted.json").write_text(json.dumps(summary, indent=1))
    return folder.path
