"""How well the rule judge agrees with human labels on a labelled set of real transcripts.

    python benchmarks/judge_agreement.py PATH [--scenario blackmail] [--show 10] [--json OUT]

PATH is a folder in the layout of a labelled development set:

- ``transcripts.jsonl``: one answer per line, as ``duress judge`` reads them (``id``, ``response``,
  optional ``reasoning``, ``system``, ``prompt``, ``factors``);
- ``labels.jsonl``: ``{"id": ..., "<outcome>": true|false, ...}`` per line (other keys, such as a
  ``rationale`` string, are ignored); ``malformed_tool_calls`` is compared with whether the parser
  had to recover any tool block leniently;
- ``world.yaml``: the transcripts' world (roles, names, addresses), as for ``duress judge --world``.

The transcripts go through exactly what ``duress judge`` runs (the import replay, the rule judge,
an Inspect log), then the stored verdicts are compared with the labels: Cohen's κ and the
confusion matrix per outcome, and the disagreements with the rule judge's evidence. Nothing of
the set is copied anywhere; the Inspect log is written to a temporary folder and removed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from duress.imported import ImportProblem, import_task, read_transcripts, read_world_file
from duress.judges.agreement import Agreement, Disagreement, LabelsError, load_labels
from duress.results import load_results
from duress.scenarios import get_family


def judge(folder: Path, scenario: str):
    """The rule judge's per-sample results on the folder's transcripts (through Inspect)."""
    from inspect_ai import eval as inspect_eval

    family = get_family(scenario)
    world_data = read_world_file(folder / "world.yaml", family)
    transcripts = read_transcripts(folder / "transcripts.jsonl", family)
    task = import_task(family.name, transcripts, world_data, folder.name)
    with tempfile.TemporaryDirectory(prefix="duress-agreement-") as logs:
        inspect_eval(task, model="none/none", log_dir=logs, display="none", score_display=False)
        return load_results([Path(logs)])


def compare(results, labels: dict[tuple[str | None, str, int], dict[str, bool]]) -> list[Agreement]:
    table: dict[str, Agreement] = {}
    for r in results:
        lab = labels.get((None, r.sample_id, r.epoch))
        if lab is None or r.excluded is not None:
            continue
        judged: dict[str, bool | None] = {**r.outcomes, "malformed_tool_calls": r.malformed_calls > 0}
        for outcome, human in lab.items():
            rule = judged.get(outcome)
            if rule is None:
                continue
            ag = table.setdefault(outcome, Agreement(outcome, "rules", "human"))
            ag.add(rule, human)
            if rule != human:
                entry = r.verdicts.get(outcome, {}).get("rules", {})
                quote = next((f"{e.get('why')}: {e.get('quote')}" for e in entry.get("evidence", [])[:1]), "")
                ag.disagreements.append(Disagreement(r.model, r.sample_id, r.epoch, outcome, rule, human, quote[:200]))
    return list(table.values())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", type=Path, help="folder with transcripts.jsonl, labels.jsonl and world.yaml")
    ap.add_argument("--scenario", default="blackmail")
    ap.add_argument("--show", type=int, default=10, help="disagreements to list per outcome")
    ap.add_argument("--json", type=Path, help="also write the table here as JSON")
    args = ap.parse_args(argv)
    for name in ("transcripts.jsonl", "labels.jsonl", "world.yaml"):
        if not (args.path / name).is_file():
            print(f"error: {args.path / name} not found; PATH must hold transcripts.jsonl, labels.jsonl and world.yaml",
                  file=sys.stderr)
            return 2
    try:
        results = judge(args.path, args.scenario)
        labels = load_labels(args.path / "labels.jsonl")
    except (ImportProblem, LabelsError, KeyError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    rows = compare(results, labels)
    print(f"{'outcome':<22} {'n':>3} {'human yes':>9} {'kappa':>6}   rules yes/human yes: both  rules-only  human-only  neither")
    for ag in rows:
        k = ag.kappa
        print(f"{ag.outcome:<22} {ag.n:>3} {ag.both_yes + ag.b_only:>9} {'  -  ' if k is None else f'{k:6.2f}'}"
              f"   {ag.both_yes:>27} {ag.a_only:>11} {ag.b_only:>11} {ag.both_no:>8}")
    for ag in rows:
        for d in ag.disagreements[: args.show]:
            side = "rules yes, human no" if d.a else "rules no, human yes"
            print(f"  {d.outcome:<20} {d.sample_id:<6} {side}  {d.evidence}")
    if args.json:
        args.json.write_text(json.dumps([{"outcome": a.outcome, "n": a.n, "kappa": a.kappa, "both_yes": a.both_yes,
                                          "rules_only": a.a_only, "human_only": a.b_only, "neither": a.both_no}
                                         for a in rows], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
