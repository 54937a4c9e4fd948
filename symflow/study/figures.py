"""Figures of a study (PNG, matplotlib from the ``plot`` extra; Agg backend, no display needed).

* ``energy.png``: population mean energy share per irrep orbit over time (log scale);
* ``alignment.png``: histograms of ``log10(sigma2/sigma1)`` and ``log10(1 - min cosine)`` at the end,
  over the neurons where the quantity is positive (exact zeros, e.g. 1-dimensional blocks, have no
  logarithm: they are counted in the axis label, never drawn at a placeholder value);
* ``phases.png`` (abelian): each neuron's phases on the unit circle, coloured by frequency (legend);
* ``rates.png``: decaying deviations of sample neurons on a log scale with the fitted and the
  predicted slopes (y axis: the deviation fitted);
* ``orbits.png``: fraction of neurons per orbit with 95% Wilson intervals, the orbit predictor's basin marks
  beside them and each neuron's predicted against its simulated orbit (docs/theory.md section 14);
* ``stage2.png``: Stage II scale and loss against the closed form.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

NO_MATPLOTLIB = ("NOTE Figures need matplotlib, which is not installed: install the plot extra "
                 "(`pip install -e \".[plot]\"`) and run the study again. All numbers are in summary.json.")


#: The y axis of each panel of ``rates.png``: the deviation whose decay is fitted.
RATE_YLABEL = {"competition": "sqrt(1 - top-orbit share)", "rank": "sigma2/sigma1", "phase": "|arg tr(xi* th2 th1)|"}


def _positive(y) -> np.ndarray:
    """``y`` with non-positive and non-finite values masked (NaN: not drawn on a log axis)."""
    y = np.asarray(y, dtype=float)
    return np.where(np.isfinite(y) & (y > 0), y, np.nan)


def figure_objects(study) -> list:
    """``[(figure, file name, caption)]`` of the study, not yet saved (tests read them)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    for fn in (_energy, _alignment, _phases, _rates, _orbits, _stage2):
        res = fn(study, plt)
        if res is not None:
            out.append(res)
    return out


def write_figures(study, out: Path) -> list:
    """Write the figures to ``out``; returns ``[(relative path, caption)]`` or ``[NOTE ...]``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return [NO_MATPLOTLIB]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figs = []
    for fig, name, caption in figure_objects(study):
        if name != "phases.png":           # its legend sits in a margin kept by subplots_adjust
            fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        figs.append((f"{out.name}/{name}", caption))
    return figs


def _energy(study, plt):
    run = study.data.run
    fig, ax = plt.subplots(figsize=(7, 4))
    mean = run["orbit_mean"]
    order = np.argsort(-mean[-1])
    for j in order[:10]:
        o = run.orbits[j]
        ax.semilogy(run.t, _positive(mean[:, j]), label=f"{o.display_label} (d={o.dim})")
    ax.set_xlabel("t (c = 1)")
    ax.set_ylabel("mean energy share")
    ax.set_ylim(1e-17, 1.5)
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title(f"{study.name}: energy per irrep orbit (population mean)")
    return fig, "energy.png", "Population mean of each orbit's energy share over time (ten largest orbits)."


def _alignment(study, plt):
    run = study.data.run
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
    panels = ((run["rank_ratio"][-1], "log10 sigma2/sigma1", "tab:blue"),
              (1.0 - run["cos_min"][-1], "log10 (1 - min alignment cosine)", "tab:green"))
    for ax, (v, label, colour) in zip(axes, panels):
        v = np.asarray(v, dtype=float)
        pos = np.isfinite(v) & (v > 0)
        zero = int(np.count_nonzero(np.isfinite(v) & (v <= 0)))
        if pos.any():
            ax.hist(np.log10(v[pos]), bins=40, color=colour)
        else:
            ax.text(0.5, 0.5, f"all {zero} values are exactly 0" if zero else "no values", ha="center",
                    va="center", transform=ax.transAxes)
        extra = []
        if zero:
            extra.append(f"{zero} exactly 0, not drawn")
        if np.count_nonzero(~np.isfinite(v)):
            extra.append(f"{int(np.count_nonzero(~np.isfinite(v)))} undefined")
        ax.set_xlabel(label + (f" ({'; '.join(extra)})" if extra else ""), fontsize=8)
        ax.set_ylabel("neurons")
    fig.suptitle(f"{study.name}: rank-one and alignment at t = {run.t[-1]:.4g}")
    return fig, "alignment.png", "Histograms of the rank-one ratio and of the alignment defect at the end of the run."


def _phases(study, plt):
    rows = [p for p in study.predictions if "phases" in p.extra]
    if not rows:
        return None
    ph = rows[0].extra["phases"]
    run = study.data.run
    dom = run["top_orbit"][-1]
    names = [k for k in ("phi1", "phi2", "phi") if k in ph]
    if not names:
        names = ["phi1"]
    fig, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names) + 1.6, 3.6), squeeze=False)
    labels = {o.id: o.display_label for o in run.orbits}
    cmap = plt.get_cmap("tab20")
    shown = np.unique(dom)
    for ax, nm in zip(axes[0], names):
        a = ph[nm]
        for i, k in enumerate(shown):
            sel = dom == k
            rad = 1.0 + 0.04 * i
            ax.scatter(rad * np.cos(a[sel]), rad * np.sin(a[sel]), s=6, color=cmap(i % 20),
                       label=f"{labels.get(int(k), k)} ({int(sel.sum())})")
        ax.set_aspect("equal")
        ax.set_title(nm)
        ax.axis("off")
    handles, leg_labels = axes[0][-1].get_legend_handles_labels()
    fig.legend(handles[:20], leg_labels[:20], title="frequency (neurons)", fontsize=7, title_fontsize=7,
               loc="center right", markerscale=2)
    fig.subplots_adjust(right=0.8)
    fig.suptitle(f"{study.name}: phases on the circle (radius and colour: frequency)")
    return fig, "phases.png", "Each neuron's phase on its frequency; Haar-uniform phases fill each ring evenly."


def _rates(study, plt):
    from .claims import FIT_WINDOWS, rate_series

    rows = [p for p in study.predictions if p.extra.get("kind")]
    if not rows:
        return None
    rows = rows[:6]
    series = rate_series(study.data)
    t = study.data.run.t
    ncol = min(3, len(rows))
    nrow = -(-len(rows) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.8 * ncol, 3.3 * nrow), squeeze=False)
    for ax in axes.ravel()[len(rows):]:
        ax.axis("off")
    for ax, p in zip(axes.ravel(), rows):
        kind = p.extra["kind"]
        Y = series[kind][:, p.extra["neurons"][:6]]
        for j in range(Y.shape[1]):
            ax.semilogy(t, _positive(Y[:, j]), lw=0.8, alpha=0.7)
        hi, lo = FIT_WINDOWS[kind]
        ax.axhspan(lo, hi, color="0.9", zorder=0)
        y0 = Y[:, 0]
        k = np.nonzero((y0 < hi) & (y0 > lo))[0]
        if k.size:
            tt = t[k]
            if p.predicted is not None:   # None: a measurement only (outside the theorem's scope)
                ax.semilogy(tt, y0[k[0]] * np.exp(p.predicted * (tt - tt[0])), "k--", lw=1.2, label="predicted slope")
            if p.measured is not None:
                ax.semilogy(tt, y0[k[0]] * np.exp(p.measured * (tt - tt[0])), "r:", lw=1.2, label="median fit")
        ax.set_ylim(1e-16, 10)
        ax.set_title(textwrap.fill(p.name, 48), fontsize=8)
        ax.set_xlabel("t (c = 1)")
        ax.set_ylabel(RATE_YLABEL[kind], fontsize=8)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6)
    return fig, "rates.png", ("Decaying deviations of sample neurons (log scale), the fit window (grey), the predicted "
                              "slope (dashed; none on a measurement-only row) and the median fitted slope (dotted).")


def _orbits(study, plt):
    """Measured basin per orbit (bars, 95% Wilson) with the orbit predictor's marks beside them (docs/theory.md
    section 14): its Monte Carlo basin on other starts (diamond, with the row's tolerance) and its share of the
    study's own neurons (circle); and, per neuron, the predicted orbit against the simulated one (the confusion
    matrix, second panel), where the predictor ran."""
    rows = [p for p in study.predictions if "table" in p.extra]
    if not rows:
        return None
    table = rows[0].extra["table"]
    labels = list(table)[:40]
    frac = np.array([table[k][0] for k in labels])
    lo = np.array([table[k][1] for k in labels])
    hi = np.array([table[k][2] for k in labels])
    predicted = {p.name[len("predicted basin fraction of "):]: p for p in study.predictions
                 if p.extra.get("source") == "lottery" and p.name.startswith("predicted basin fraction of ")
                 and p.predicted is not None}
    neurons = next((p.extra["lottery_neurons"] for p in study.predictions if "lottery_neurons" in p.extra), None)
    orbits = study.data.run.orbits
    label_of = {o.id: o.display_label for o in orbits}
    dead = "dead neurons (no orbit)"
    if neurons is not None and (dead in predicted or np.any(neurons["simulated"] < 0) or np.any(neurons["predicted"] < 0)):
        # dead neurons (final Omega ~ 0) apart, as the predictor counts them: the bars by its rule
        from ..statistics import wilson_interval

        labels = labels + ["dead"]
        sim = neurons["simulated"]
        M = len(sim)
        ids = [-1 if lab == "dead" else next(o.id for o in orbits if o.display_label == lab) for lab in labels]
        counts = [int(np.sum(sim == i)) for i in ids]
        frac = np.array(counts) / M
        lo, hi = (np.array(v) for v in zip(*(wilson_interval(k, M) for k in counts)))
    fig, axes = plt.subplots(1, 2 if neurons is not None else 1, squeeze=False,
                             figsize=(max(5, 0.45 * len(labels) + 2) * (2 if neurons is not None else 1), 3.9))
    ax = axes[0, 0]
    x = np.arange(len(labels))
    ax.bar(x, frac, yerr=[frac - lo, hi - frac], capsize=3, color="tab:purple", alpha=0.8, label="simulated (measured)")
    px = [i for i, lab in enumerate(labels) if (dead if lab == "dead" else lab) in predicted]
    if px:
        rows_p = [predicted[dead if labels[i] == "dead" else labels[i]] for i in px]
        ax.errorbar(np.array(px) + 0.25, [p.predicted for p in rows_p], yerr=[p.tolerance if isinstance(p.tolerance, (int, float)) else 0 for p in rows_p],
                    fmt="D", ms=5, color="k", capsize=2, lw=0.8,
                    label="predicted basin (other starts; bar: the row's tolerance)")
    if neurons is not None:
        ids = [-1 if lab == "dead" else next(o.id for o in orbits if o.display_label == lab) for lab in labels]
        own = [np.mean(neurons["predicted"] == i) for i in ids]
        ax.plot(x - 0.25, own, "o", mfc="none", mec="tab:orange", ms=6, label="predicted, these neurons")
    ax.set_xticks(x)
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("fraction of neurons")
    ax.set_title(f"{study.name}: basin fractions per orbit (95% Wilson intervals)", fontsize=9)
    ax.legend(fontsize=6)
    if neurons is not None:
        ax2 = axes[0, 1]
        ids = sorted(set(neurons["simulated"].tolist()) | set(neurons["predicted"].tolist()), key=lambda i: (i < 0, i))
        ids = ids[:40]
        pos = {i: j for j, i in enumerate(ids)}
        C = np.zeros((len(ids), len(ids)), dtype=int)
        for p_, s_ in zip(neurons["predicted"], neurons["simulated"]):
            if p_ in pos and s_ in pos:
                C[pos[s_], pos[p_]] += 1
        ax2.imshow(np.log1p(C), cmap="Greens")
        for a in range(len(ids)):
            for b in range(len(ids)):
                if C[a, b]:
                    ax2.text(b, a, str(C[a, b]), ha="center", va="center", fontsize=6,
                             color="k" if a == b else "tab:red")
        names = [label_of.get(i, "dead") if i >= 0 else "dead" for i in ids]
        ax2.set_xticks(range(len(ids)), names, rotation=60, ha="right", fontsize=7)
        ax2.set_yticks(range(len(ids)), names, fontsize=7)
        ax2.set_xlabel("predicted orbit (from the neuron's start)")
        ax2.set_ylabel("simulated orbit (end state)")
        agree = float(np.mean(neurons["predicted"] == neurons["simulated"]))
        ax2.set_title(f"per neuron: {agree:.1%} agree (off-diagonal in red)", fontsize=9)
    fig.tight_layout()
    caption = "Fraction of neurons ending on each orbit, with 95% Wilson intervals"
    if predicted or neurons is not None:
        caption += ("; beside each bar the orbit predictor's basin (diamond, on other starts, with its tolerance) and "
                    "its share of these neurons (circle); right: each neuron's predicted against its simulated orbit")
    if labels and labels[-1] == "dead":
        caption += "; dead neurons (final Omega below the predictor's threshold) counted apart"
    return fig, "orbits.png", caption + "."


def _stage2(study, plt):
    rows = [p for p in study.predictions if "a_pred" in p.extra]
    if not rows:
        return None
    e = rows[0].extra
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
    axes[0].plot(e["tau"], e["a"], label="scale flow (frozen directions)")
    axes[0].plot(e["tau"], e["a_pred"], "--", label="closed form, measured margin")
    axes[0].set_xlabel("tau = n kappa^2 t")
    axes[0].set_ylabel("tied scale a")
    axes[0].legend(fontsize=7)
    axes[1].loglog(e["tau"][1:], e["loss"][1:])
    axes[1].set_xlabel("tau")
    axes[1].set_ylabel("summed cross-entropy")
    fig.suptitle(f"{study.name}: Stage II")
    return fig, "stage2.png", "Stage II: tied scale and summed loss with the directions frozen at the Stage I end state."
