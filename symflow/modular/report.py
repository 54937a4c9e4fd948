"""Reports of modular-addition runs: ``report.md``, ``metrics.json``, ``metrics.npz``, figures.

``metrics.json`` is :meth:`GrokkingResult.to_json` (config, versions, stages, mechanism, all
curves); ``metrics.npz`` holds the curves, the final parameters and the same metadata as a JSON
string. Figures need matplotlib, an optional extra (``pip install symflow[plot]``); without it the
report says so and everything else is written.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np

__all__ = ["write_grokking_report", "has_matplotlib"]


def has_matplotlib() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


#: The stage lines drawn on grok's curves: (attribute of ``Stages``, line style, legend label).
STAGE_LINES = (("memorised", ":", "memorised (train acc reached)"), ("generalised", "--", "generalised (test acc reached)"),
               ("perfect", "-.", "perfect (test acc 1)"))


def figure(result):
    """The matplotlib figure of grok's curves: accuracy, cross-entropy, Fourier progress measures and
    parameter norm against the step, with the detected stages as labelled vertical lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = result.curves()
    s = c["step"]
    fig, ax = plt.subplots(2, 2, figsize=(10, 7), constrained_layout=True)
    ax[0, 0].plot(s, c["train_acc"], label="train")
    ax[0, 0].plot(s, c["test_acc"], label="test")
    ax[0, 0].set_title("accuracy")
    ax[0, 0].set_ylabel("accuracy")
    ax[0, 1].semilogy(s, c["train_loss"], label="train")
    ax[0, 1].semilogy(s, c["test_loss"], label="test")
    ax[0, 1].set_title("cross-entropy")
    ax[0, 1].set_ylabel("cross-entropy")
    ax[1, 0].plot(s, c["ipr"], label="IPR")
    ax[1, 0].plot(s, c["mean_abs_sin_D"], label="mean |sin D|")
    ax[1, 0].set_title("Fourier progress measures")
    ax[1, 1].plot(s, c["param_norm"], label="|params|")
    ax[1, 1].set_title("parameter norm")
    ax[1, 1].set_ylabel("norm")
    st = result.stages
    for a in ax.ravel():
        for attr, style, label in STAGE_LINES:
            b = getattr(st, attr)
            if b is not None:
                a.axvline(b, color="grey", ls=style, lw=0.8, label=f"{label}, step {b}")
        a.set_xlabel("step")
        if a.get_legend_handles_labels()[0]:
            a.legend(fontsize="small")
    return fig


def _figure(result, path: Path) -> str | None:
    if not has_matplotlib():
        return None
    import matplotlib.pyplot as plt

    fig = figure(result)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


def _markdown(result, figure: str | None) -> str:
    cfg, st, mech, h = result.config, result.stages, result.mechanism, result.history
    fit, proj = mech.fit, mech.extras.get("projected_fit", {})
    lines = [f"# Grokking on Z_{cfg.p}", ""]
    cmd = (f"symflow grok --p {cfg.p} --frac {cfg.frac} --weight-decay {cfg.weight_decay} --act {cfg.act} "
           f"--steps {cfg.steps} --lr {cfg.lr} --width {cfg.width} --init-scale {cfg.init_scale} --seed {cfg.seed}")
    lines += [f"Reproduce: `{cmd}`", ""]
    if result.interrupted:
        lines += [f"**Interrupted** after {int(h.step[-1])} of {cfg.steps} steps; everything below is for the "
                  "steps reached.", ""]
    reached = st.perfect is not None
    last = "last" if result.interrupted else "final"
    lines += ["## Outcome", "",
              f"- {last} train accuracy {h.train_acc[-1]:.4f}, test accuracy {h.test_acc[-1]:.4f} "
              f"({len(h.step)} records, wall time {result.wall_time_s:.1f} s)",
              f"- {st.verdict}: memorised at step "
              f"{st.memorised} (test accuracy there {st.test_acc_at_memorised:.3f}), test accuracy >= 0.95 at "
              f"step {st.generalised}, 100 % at step {st.perfect}",
              "- " + ("reached 100 % test accuracy" if reached else
                      f"100 % test accuracy not reached by step {int(h.step[-1])} (interrupted: no verdict; best "
                      f"{np.nanmax(h.test_acc):.4f})" if result.interrupted else
                      f"did **not** reach 100 % test accuracy (best {np.nanmax(h.test_acc):.4f})"), ""]
    lines += ["## Stages", "", "| stage | steps | what happened |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in st.describe()]
    lines += ["", f"Rule: {st.rule}.", ""]
    m = result.measures
    lines += ["## Progress measures (first -> last record)", "", "| measure | first | last |", "|---|---|---|"]
    for name in ("train_loss", "test_loss", "ipr", "mean_abs_sin_D", "dominant_share"):
        arr = m.get(name) if name in m else getattr(h, name, None)
        if arr is not None and len(arr):
            lines.append(f"| {name} | {arr[0]:.4g} | {arr[-1]:.4g} |")
    lines.append(f"| param_norm | {h.param_norm[0]:.4g} | {h.param_norm[-1]:.4g} |")
    lines += ["", "## Learned mechanism (docs/theory.md section 5)", ""]
    if result.interrupted:
        lines += [f"Read out at step {int(h.step[-1])} of an interrupted run: the network as it was then, not the "
                  "trained network.", ""]
    lines += [
              f"Neurons: median dominant-frequency energy share {mech.single_frequency_share:.3f}, mean |sin D| "
              f"{mech.mean_abs_sin_D:.3f} (psi = 2 phi gives 0), frequencies used {mech.frequencies_used}, phase "
              f"spread max_k |mean e^(2 i phi)| = {mech.phase_spread:.3f} (0 = uniform).", "",
              "Flawed indicator f(x,y)[j] ~ a 1{j=x+y} + b 1{j=2x} + c 1{j=2y} + const (docs/theory.md section 5: a:b:c = 2:1:1):", "",
              "| network | a | b | c | a/b | R^2 | corr with 2:1:1 | accuracy |", "|---|---|---|---|---|---|---|---|",
              f"| trained | {fit.coef[0]:.4g} | {fit.coef[1]:.4g} | {fit.coef[2]:.4g} | {fit.ratios[0]:.3f} | "
              f"{fit.r2:.4f} | {fit.correlation:.4f} | {fit.accuracy:.4f} |"]
    if proj:
        lines.append(f"| dominant cosines only | {proj['coef_sum']:.4g} | {proj['coef_2x']:.4g} | {proj['coef_2y']:.4g} | "
                     f"{proj['ratio_sum_over_2x']:.3f} | {proj['r2']:.4f} | {proj['correlation_211']:.4f} | "
                     f"{proj['accuracy']:.4f} |")
    lines += ["", "Test-time activation swap (same weights, whole table):", "",
              "| activation | parity | accuracy |", "|---|---|---|"]
    lines += [f"| {k.replace('|', chr(92) + '|')} | {v[1]} | {v[0]:.4f} |" for k, v in mech.swap.items()]
    lines += ["", f"Verdict{f' at step {int(h.step[-1])} (interrupted run)' if result.interrupted else ''}: "
                  f"{mech.swap_verdict()}.", ""]
    lines += ["## Figures", ""]
    lines += [f"![curves]({Path(figure).name})" if figure else
              "matplotlib is not installed, so no figures were drawn (optional extra: `pip install symflow[plot]`); "
              "all curves are in metrics.json and metrics.npz."]
    v = result.versions
    lines += ["", "## Versions", "", ", ".join(f"{k} {val}" for k, val in v.items()), ""]
    return "\n".join(lines)


def write_grokking_report(result, out_dir, force: bool = False) -> dict:
    """Write ``report.md``, ``metrics.json``, ``metrics.npz`` (and ``curves.png``) to the folder ``out_dir``;
    returns ``{"report", "json", "npz"[, "figure"]: path}``.

    The folder is an :class:`~symflow.outputs.OutputFolder` of kind ``grok`` (``out_dir`` may be one
    already, as the CLI passes it): a non-empty folder that is not an earlier grok output is refused
    unless ``force=True``, and the folder is replaced whole in one rename (never a half-written report,
    no stale file of an earlier run). Every ``OSError`` is one :class:`~symflow.errors.SymflowError`.
    """
    from ..outputs import OutputFolder

    folder = out_dir if isinstance(out_dir, OutputFolder) else \
        OutputFolder(out_dir, "grok", result.config.to_json(), force=force)
    folder.interrupted = result.interrupted
    with folder as stage:
        staged = _write_files(result, stage)
    return {k: str(folder.path / Path(v).name) for k, v in staged.items()}


def _write_files(result, out: Path) -> dict:
    """The grok output files, written into the (temporary) folder ``out``."""
    data = result.to_json()
    (out / "metrics.json").write_text(json.dumps(data, indent=1))
    meta = {k: v for k, v in data.items() if k != "curves"}
    arrays = {k: np.asarray(v) for k, v in result.curves().items()}
    arrays.update({f"final_{k}": v for k, v in result.final_params.items()})
    np.savez_compressed(out / "metrics.npz", metadata=json.dumps(meta), **arrays)
    figure = _figure(result, out / "curves.png")
    (out / "report.md").write_text(_markdown(result, figure))
    files = {"report": str(out / "report.md"), "json": str(out / "metrics.json"), "npz": str(out / "metrics.npz")}
    if figure:
        files["figure"] = figure
    return files
