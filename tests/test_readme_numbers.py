"""The README's measured numbers come from tools/readme_numbers.py and cannot drift from its record.

* every recorded fact's rendering stands in README.md (a hand edit of a number fails here);
* every fact of the script has a record, with the machine it was measured on;
* the deterministic facts that are cheap (seeded outputs that do not depend on the machine) are measured
  again here and must render to the same README text, except the parts a fact names as depending on the
  processor's rounding (``Fact.rounding_dependent``).
"""
import json
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import readme_numbers  # noqa: E402


def test_readme_holds_every_recorded_fact():
    assert readme_numbers.check() == []


def test_every_record_names_its_machine_and_command():
    record = json.loads(readme_numbers.RECORD.read_text())
    assert set(record["facts"]) == set(readme_numbers.BY_ID)
    for fid, entry in record["facts"].items():
        assert entry["command"] == readme_numbers.BY_ID[fid].command
        assert {"cores", "memory_gib", "processor", "date", "revision", "load_average"} <= set(entry["machine"])


def test_a_hand_edited_number_is_caught():
    record = readme_numbers.load_record()
    readme = readme_numbers.README.read_text()
    text = readme_numbers.rendered(record)["li2_q8"]
    edited = readme.replace(text, text.replace("37.5%", "38.5%"))
    assert edited != readme
    assert any("li2_q8" in p for p in readme_numbers.check(readme=edited, record=record))


@pytest.mark.parametrize("fid", [f.id for f in readme_numbers.FACTS if f.deterministic and f.cheap])
def test_cheap_deterministic_facts_measure_the_same_again(fid):
    record = readme_numbers.load_record()
    fact = readme_numbers.BY_ID[fid]
    values = readme_numbers.measure([fid], verbose=False)[fid]
    machine = readme_numbers.machine_text(record["facts"][fid]["machine"])
    again = fact.render(dict(values, machine=machine))
    recorded = fact.render(dict(record["facts"][fid]["values"], machine=machine))
    assert fact.comparable(again) == fact.comparable(recorded)


def test_rounding_dependent_parts_are_masked_and_nothing_else():
    fact = readme_numbers.BY_ID["landscape_d5"]
    row = " {rho_2}   2R   sqrt(10)/200      2     0     1   yes (59%)    -0.0158..-0.0019      4.2% (3.4-5.2)   found"
    other = row.replace("..-0.0019", "..-0.00313")
    assert fact.comparable(row) == fact.comparable(other)
    assert fact.comparable(row) != fact.comparable(row.replace("4.2% (3.4-5.2)", "4.3% (3.4-5.2)"))
    assert fact.comparable(row) != fact.comparable(row.replace("-0.0158..", "-0.0159.."))
    assert fact.comparable(row) == fact.comparable(row.replace("    -0.0158..-0.0019", "   -0.0158..-0.00313"))
    warning = "symflow landscape: warning: shared embeddings ... cannot represent the task: the net .."
    assert fact.comparable(warning) == warning
    li2 = readme_numbers.BY_ID["li2_q8"]
    line = "energy constant: derived 2/n (rel. error vs brute force 6.8e-16), paper 1/(2n) (0.75)"
    assert li2.comparable(line) == li2.comparable(line.replace("6.8e-16", "5.1e-16"))
    assert li2.comparable(line) != li2.comparable(line.replace("2/n", "3/n"))
