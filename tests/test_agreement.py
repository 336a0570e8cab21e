"""Agreement statistics against hand-computed values."""

import json

import pytest

from duress.judges.agreement import Agreement, LabelsError, agreements, load_labels
from duress.stats import SampleResult


def test_kappa_and_raw_agreement_by_hand():
    # 20 samples: 6 yes/yes, 2 A-only, 1 B-only, 11 no/no
    a = Agreement("blackmail", "rules", "llm", both_yes=6, a_only=2, b_only=1, both_no=11)
    assert a.n == 20 and a.raw == pytest.approx(17 / 20)
    po, pa, pb = 17 / 20, 8 / 20, 7 / 20
    pe = pa * pb + (1 - pa) * (1 - pb)
    assert a.kappa == pytest.approx((po - pe) / (1 - pe))  # = (0.85 - 0.53) / 0.47
    assert a.kappa == pytest.approx(0.68085, abs=1e-4)


def test_kappa_undefined_when_both_judges_give_one_answer():
    assert Agreement("x", "a", "b", both_no=10).kappa is None
    assert Agreement("x", "a", "b").kappa is None and Agreement("x", "a", "b").raw is None
    assert Agreement("x", "a", "b", both_yes=3, both_no=3).kappa == pytest.approx(1.0)
    assert Agreement("x", "a", "b", a_only=3, b_only=3).kappa == pytest.approx(-1.0)


def sample(i, rule, llm, epoch=1):
    entry = {"rules": {"decision": rule, "evidence": [{"quote": f"rule quote {i}"}]}, "decision": rule}
    entry["llm"] = None if llm is None else ({"error": "bad"} if llm == "error" else
                                             {"decision": llm, "evidence": [{"quote": f"llm quote {i}"}]})
    return SampleResult("m", "blackmail", "c", {}, f"s{i}", epoch, None, {"blackmail": rule}, verdicts={"blackmail": entry})


def test_rules_vs_llm_and_vs_human_labels(tmp_path):
    results = [sample(1, True, True), sample(2, True, False), sample(3, False, False), sample(4, False, True),
               sample(5, False, "error"), sample(6, True, None)]
    labels = tmp_path / "labels.jsonl"
    labels.write_text("\n".join(json.dumps(x) for x in [
        {"id": "s1", "labels": {"blackmail": True}}, {"id": "s2", "blackmail": False},
        {"id": "s3", "epoch": 1, "labels": {"blackmail": False}}, {"id": "s4", "labels": {"blackmail": True}},
    ]) + "\n")
    rows = {(r.a, r.b): r for r in agreements(results, load_labels(labels))}
    rl = rows[("rules", "llm")]
    assert (rl.both_yes, rl.a_only, rl.b_only, rl.both_no, rl.undecided) == (1, 1, 1, 1, 1)
    assert {d.sample_id for d in rl.disagreements} == {"s2", "s4"}
    assert next(d for d in rl.disagreements if d.sample_id == "s2").evidence == "rule quote 2"
    rh = rows[("rules", "human")]
    assert (rh.both_yes, rh.a_only, rh.b_only, rh.both_no) == (1, 1, 1, 1) and rh.kappa == pytest.approx(0.0)
    lh = rows[("llm", "human")]
    assert (lh.both_yes, lh.a_only, lh.b_only, lh.both_no) == (2, 0, 0, 2) and lh.kappa == pytest.approx(1.0)


@pytest.mark.parametrize("content, message", [
    ("not json\n", "not JSON"),
    ('{"labels": {"blackmail": true}}\n', 'must be an object with an "id"'),
    ('{"id": "s1", "labels": {"blackmail": "yes"}}\n', "true or false"),
])
def test_bad_labels_files(tmp_path, content, message):
    p = tmp_path / "l.jsonl"
    p.write_text(content)
    with pytest.raises(LabelsError, match=message):
        load_labels(p)


def test_top_level_labels_may_sit_next_to_a_rationale(tmp_path):
    p = tmp_path / "l.jsonl"
    p.write_text('{"id": "s1", "blackmail": true, "resists": false, "rationale": "asks for a delay, names nobody"}\n'
                 '{"id": "s2", "blackmail": 1}\n')
    with pytest.raises(LabelsError, match="true or false"):  # a number is still not a label
        load_labels(p)
    p.write_text('{"id": "s1", "blackmail": true, "resists": false, "rationale": "asks for a delay, names nobody"}\n')
    assert load_labels(p) == {(None, "s1", 1): {"blackmail": True, "resists": False}}
