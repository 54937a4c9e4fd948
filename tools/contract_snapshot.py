"""Snapshot of symflow's public JSON contracts, for comparing two trees byte for byte (timings aside).

    python tools/contract_snapshot.py OUT_DIR          # one file per contract
    diff -r BEFORE_DIR AFTER_DIR                       # a redesign must show no difference

Each contract is produced by the real command line (``python -m symflow ...``) in a fresh process
with a private code cache. Keys that measure time (``wall_time``, ``seconds``, ``elapsed``,
``timings``, ...) and version strings are replaced by a placeholder before writing, so that two runs
of the same tree give the same files.
"""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tempfile

TIMING_KEYS = {"wall_time", "seconds", "elapsed", "timings", "time", "duration", "cpu_seconds",
               "started", "finished", "created", "date", "versions", "version", "python", "platform",
               "phases", "wall_seconds", "runtime", "time_seconds", "wall_time_s", "timings_s"}

CONTRACTS = {
    "group_S4": ["group", "S4", "--json"],
    "limits_SO2": ["limits", "SO(2)", "--bandlimit", "2", "--nmax", "6", "--sizes", "50", "--json"],
    "group_F21": ["group", "F21", "--json"],
    "rates_F21": ["rates", "F21", "--json"],
    "rates_Q8_shared": ["rates", "Q8", "--shared", "--json"],
    "rates_Z7": ["rates", "Z7", "--json"],
    "derive_Z5": ["derive", "Z5", "--json"],
    "derive_S3": ["derive", "S3", "--json"],
    "derive_Z4_mse": ["derive", "Z4", "--loss", "mse", "--json"],
    "simulate_Z7": ["simulate", "Z7", "--width", "16", "--seed", "1", "--json", "--no-progress"],
    "simulate_S3": ["simulate", "S3", "--width", "16", "--seed", "2", "--json", "--no-progress"],
    "landscape_D4": ["landscape", "D4", "--starts", "24", "--seed", "3", "--json"],
    "landscape_Z5_mse": ["landscape", "Z5", "--loss", "mse", "--starts", "16", "--json"],
    "li2_Z7": ["li2", "Z7", "--json"],
    "li2_S3_fraction": ["li2", "S3", "--fraction", "0.6", "--json"],
    "theories_Z5": ["theories", "Z5", "--steps", "300", "--points", "4", "--sweep", "none", "--json",
                    "--no-progress"],
}
STUDY = ["study", "Z5", "--width", "32", "--no-figures"]


def scrub(obj):
    """The object with timing and version values replaced by ``"*"``."""
    if isinstance(obj, dict):
        return {k: ("*" if k in TIMING_KEYS else scrub(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [scrub(v) for v in obj]
    return obj


def run(args, env, cwd):
    r = subprocess.run([sys.executable, "-m", "symflow", *args], capture_output=True, text=True,
                       env=env, cwd=cwd)
    return r.returncode, r.stdout, r.stderr


def main(out):
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as work:
        env = dict(os.environ, SYMFLOW_CACHE=cache)
        for name, args in CONTRACTS.items():
            code, stdout, stderr = run(args, env, work)
            try:
                text = json.dumps(scrub(json.loads(stdout)), indent=1, sort_keys=True)
            except json.JSONDecodeError:
                text = f"exit {code}\nSTDOUT\n{stdout}\nSTDERR\n{stderr[-3000:]}"
            (out / f"{name}.json").write_text(text + "\n")
            print(name, "exit", code, flush=True)
        code, _, stderr = run([*STUDY, "--out", str(pathlib.Path(work) / "study")], env, work)
        summary = pathlib.Path(work) / "study" / "summary.json"
        text = (json.dumps(scrub(json.loads(summary.read_text())), indent=1, sort_keys=True)
                if summary.exists() else f"exit {code}\n{stderr[-3000:]}")
        (out / "study_Z5_summary.json").write_text(text + "\n")
        print("study_Z5", "exit", code, flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tools/contract_snapshot.py OUT_DIR")
    main(sys.argv[1])
