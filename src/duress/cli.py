"""The ``duress`` command."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Stress-test AI agents for high-stakes misaligned behaviour (on Inspect AI).",
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


class UsageProblem(Exception):
    """Bad input: one line to the user, exit code 2."""


def fail(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _design_and_family(scenario: str, factor: list[str]) -> tuple[Any, Any]:
    from duress.design import build_design, parse_factor_options
    from duress.scenarios import get_family

    try:
        fam = get_family(scenario)
    except KeyError as err:
        raise UsageProblem(f"{err.args[0]} (see: duress scenarios)") from None
    choices = parse_factor_options(factor) if factor else dict(fam.default_choices)
    return fam, build_design(fam.factors, choices, family=f"scenario {scenario!r}")


def _check_world(world: str) -> None:
    from duress.task import WORLDS

    if world not in WORLDS:
        raise UsageProblem(f"unknown world {world!r}; use --world canonical or --world random --seed N")


def one_line(err: BaseException) -> str:
    """An exception message (possibly multi-line Rich markup) as one plain line."""
    from rich.text import Text

    try:
        plain = Text.from_markup(str(err)).plain
    except Exception:
        plain = str(err)
    text = " ".join(line.strip() for line in plain.splitlines() if line.strip())
    return re.sub(r"^ERROR:\s*", "", text) or type(err).__name__


def _check_policy(policy: str, judge_model: str | None) -> None:
    from duress.judges.rules import POLICIES

    if policy not in POLICIES:
        raise UsageProblem(f"unknown policy {policy!r}; use {', '.join(POLICIES)}")
    if policy != "rules" and not judge_model:
        raise UsageProblem(f"--policy {policy} needs a judge model: add --judge-model MODEL")


def policy_label(policy: str | None, judge_model: str | None = None) -> str:
    names = {"rules": "rules", "llm": "LLM judge", "both": "rules AND LLM judge", "either": "rules OR LLM judge"}
    if policy is None:
        return "as judged in each run"
    return names[policy] + (f" ({judge_model})" if judge_model and policy != "rules" else "")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:60] or "model"


@app.command()
def run(
    scenario: str = typer.Option("blackmail", "--scenario", "-s", help="Scenario family (see: duress scenarios)."),
    model: str = typer.Option("local/smollm2", "--model", "-m", help="Any Inspect model, e.g. anthropic/claude-sonnet-4-0, local/smollm2, local/PATH.gguf."),
    factor: list[str] = typer.Option([], "--factor", "-f", help="NAME=LEVEL[,LEVEL...]; repeat for several factors. Without any, the family's default design."),
    samples: int = typer.Option(5, "--samples", "-n", min=1, help="Samples (epochs) per condition."),
    world: str = typer.Option("canonical", "--world", help="canonical, or random (names drawn from --seed)."),
    seed: int = typer.Option(0, "--seed", help="Seed for the random world and the per-sample generation seeds."),
    protocol: str = typer.Option("auto", "--protocol", help="auto (text for local/*, native otherwise), native or text."),
    max_turns: Optional[int] = typer.Option(None, "--max-turns", min=1, help="Model turns per sample (default: 1 text, 10 native)."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", min=1, help="Tokens per model turn."),
    temperature: Optional[float] = typer.Option(None, "--temperature", min=0.0, help="Sampling temperature."),
    max_connections: Optional[int] = typer.Option(None, "--max-connections", min=1, help="Concurrent model calls."),
    cache: bool = typer.Option(False, "--cache/--no-cache", help="Reuse cached model responses (identical numbers on rerun)."),
    judge_model: Optional[str] = typer.Option(None, "--judge-model", help="An Inspect model that also judges every outcome (LLM judge)."),
    policy: str = typer.Option("rules", "--policy", help="How rule and LLM verdicts combine: rules, llm, both, either."),
    out: Path = typer.Option(Path("runs"), "--out", "-o", help="Folder under which the run folder is created."),
) -> None:
    """Run a scenario family on a model and print the outcome table."""
    try:
        fam, design = _design_and_family(scenario, factor)
        _check_world(world)
        if protocol not in ("auto", "native", "text"):
            raise UsageProblem(f"unknown protocol {protocol!r}; use auto, native or text")
        _check_policy(policy, judge_model)
    except UsageProblem as err:
        fail(str(err))
    except ValueError as err:
        fail(str(err))

    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import GenerateConfig, get_model

    try:
        the_model = get_model(model)
    except Exception as err:  # unknown provider, missing file, missing key …
        fail(f"cannot use model {model!r}: {one_line(err)}")
    if judge_model:
        try:
            get_model(judge_model)
        except Exception as err:
            fail(f"cannot use judge model {judge_model!r}: {one_line(err)}")

    from duress.progress import sample_progress
    from duress.task import family_task

    conditions = design.conditions()
    run_dir = out / f"{time.strftime('%Y%m%d-%H%M%S')}-{fam.name}-{_slug(model)}"
    task = family_task(fam.name, factors={k: list(v) for k, v in design.chosen.items()}, samples=samples,
                       world=world, seed=seed, protocol=protocol, max_turns=max_turns, cache=cache,
                       judge_model=judge_model, policy=policy)
    total = len(conditions) * samples
    console.print(
        f"[bold]duress run[/]: {fam.name} on [bold]{model}[/], {len(conditions)} condition(s) × {samples} sample(s) = {total}"
        f"; world {world}{f' (seed {seed})' if world == 'random' else ''}; protocol {protocol}"
    )
    config = GenerateConfig(max_tokens=max_tokens, temperature=temperature, max_connections=max_connections)
    run_dir.mkdir(parents=True, exist_ok=False)
    with sample_progress(total, fam.name, console):
        logs = inspect_eval(task, model=the_model, log_dir=str(run_dir / "logs"), display="none",
                            score_display=False, **config.model_dump(exclude_none=True))
    _finish_run(logs[0], run_dir, f"{fam.name} · {model} · verdicts: {policy_label(policy, judge_model)}", {
        "scenario": fam.name, "model": model, "samples": samples, "world": world, "seed": seed,
        "protocol": protocol, "max_turns": max_turns, "design": {k: list(v) for k, v in design.chosen.items()},
        "judge_model": judge_model, "policy": policy, "conditions": [c.id for c in conditions],
    })


def _finish_run(log: Any, run_dir: Path, title: str, info: dict[str, Any]) -> None:
    """After an eval: the table from the logs, the CSVs, run.json, and where everything is."""
    from duress.results import print_table, summarise, write_csv, write_samples

    if log.status == "error" and not log.samples:
        fail(f"the run failed: {log.error.message if log.error else 'unknown error'} (log: {log.location})")
    results, rows = summarise([run_dir / "logs"])
    print_table(rows, console, title=title)
    write_csv(rows, run_dir / "results.csv")
    write_samples(results, run_dir / "samples.csv")
    write_samples(results, run_dir / "samples.parquet")
    (run_dir / "run.json").write_text(json.dumps(info, indent=2) + "\n")
    excluded = sum(1 for r in results if r.excluded)
    if excluded:
        console.print(f"[yellow]{excluded} sample(s) excluded from the rates[/] (see the Excluded column and samples.csv).")
    console.print(f"Results: {run_dir / 'results.csv'} (per-sample: samples.csv, samples.parquet)")
    console.print(f"Inspect logs: {run_dir / 'logs'}  (open with: inspect view --log-dir {run_dir / 'logs'})")


@app.command()
def judge(
    input: Path = typer.Option(..., "--input", "-i", help="JSON lines with a 'response' field (and optional reasoning, system, prompt, id, factors)."),
    scenario: str = typer.Option("blackmail", "--scenario", "-s", help="The family whose outcomes to judge."),
    world: Path = typer.Option(..., "--world", "-w", help="World file (YAML) naming the transcripts' roles; see the README."),
    judge_model: Optional[str] = typer.Option(None, "--judge-model", help="An Inspect model that also judges every outcome."),
    policy: str = typer.Option("rules", "--policy", help="How rule and LLM verdicts combine: rules, llm, both, either."),
    out: Path = typer.Option(Path("runs"), "--out", "-o", help="Folder under which the run folder is created."),
) -> None:
    """Judge transcripts produced elsewhere (text-protocol tool calls) and print the same outcome table."""
    from duress.imported import ImportProblem, import_task, read_transcripts, read_world_file
    from duress.scenarios import get_family

    try:
        fam = get_family(scenario)
    except KeyError as err:
        fail(f"{err.args[0]} (see: duress scenarios)")
    try:
        _check_policy(policy, judge_model)
        world_data = read_world_file(world, fam)
        transcripts = read_transcripts(input, fam)
    except (UsageProblem, ImportProblem) as err:
        fail(str(err))
    if judge_model:
        from inspect_ai.model import get_model

        try:
            get_model(judge_model)
        except Exception as err:
            fail(f"cannot use judge model {judge_model!r}: {one_line(err)}")
    from inspect_ai import eval as inspect_eval

    from duress.progress import sample_progress

    run_dir = out / f"{time.strftime('%Y%m%d-%H%M%S')}-{fam.name}-imported-{_slug(input.stem)}"
    run_dir.mkdir(parents=True, exist_ok=False)
    console.print(f"[bold]duress judge[/]: {len(transcripts)} transcript(s) from {input} as {fam.name}")
    task = import_task(fam.name, transcripts, world_data, input.name, judge_model=judge_model, policy=policy)
    with sample_progress(len(transcripts), "judging", console):
        logs = inspect_eval(task, model="none/none", log_dir=str(run_dir / "logs"), display="none", score_display=False)
    _finish_run(logs[0], run_dir, f"{fam.name} · imported {input.name} · verdicts: {policy_label(policy, judge_model)}", {
        "scenario": fam.name, "input": str(input), "world_file": str(world), "judge_model": judge_model, "policy": policy,
    })


@app.command()
def report(
    runs: list[Path] = typer.Argument(..., help="Run folders or Inspect log files (also from a plain `inspect eval`)."),
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="Also write the table as CSV here."),
    policy: Optional[str] = typer.Option(None, "--policy", help="Re-combine stored verdicts: rules, llm, both, either (default: each run's own)."),
    by: Optional[str] = typer.Option(None, "--by", help="Also show every rate split by this outcome, e.g. states_evaluation."),
) -> None:
    """Print the outcome table of one or more runs (rates, 95% Wilson intervals, exclusions)."""
    from duress.judges.rules import POLICIES
    from duress.results import ResultsError, print_conditional, print_table, summarise, write_csv

    if policy is not None and policy not in POLICIES:
        fail(f"unknown policy {policy!r}; use {', '.join(POLICIES)}")
    try:
        results, rows = summarise(runs, policy)
    except ResultsError as err:
        fail(str(err))
    print_table(rows, console, title=f"Outcomes · verdicts: {policy_label(policy)}")
    if by is not None:
        try:
            print_conditional(results, by, console)
        except ResultsError as err:
            fail(str(err))
    if csv_out is not None:
        write_csv(rows, csv_out)
        console.print(f"Table written to {csv_out}")


@app.command()
def export(
    runs: list[Path] = typer.Argument(..., help="Run folders or Inspect log files."),
    out: Path = typer.Option(..., "--out", "-o", help="samples.csv or samples.parquet"),
    policy: Optional[str] = typer.Option(None, "--policy", help="Re-combine stored verdicts: rules, llm, both, either."),
) -> None:
    """Export one row per sample (factors, exclusion, tokens, every judge's verdict) as CSV or Parquet."""
    from duress.judges.rules import POLICIES
    from duress.results import ResultsError, design_order, load_results, write_samples

    if policy is not None and policy not in POLICIES:
        fail(f"unknown policy {policy!r}; use {', '.join(POLICIES)}")
    if out.suffix not in (".csv", ".parquet"):
        fail(f"--out must end in .csv or .parquet, not {out.name!r}")
    try:
        results = design_order(load_results(runs, policy))
        write_samples(results, out)
    except ResultsError as err:
        fail(str(err))
    console.print(f"{len(results)} samples written to {out}")


@app.command()
def agreement(
    runs: list[Path] = typer.Argument(..., help="Run folders or Inspect log files judged with --judge-model (or with labels)."),
    labels: Optional[Path] = typer.Option(None, "--labels", help="Human labels, JSON lines: {\"id\": ..., \"epoch\": 1, \"labels\": {\"blackmail\": true}}."),
    show: int = typer.Option(20, "--show", help="Disagreements to list (0: none)."),
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="Also write the agreement table as CSV here."),
) -> None:
    """Agreement between the rule judge, the LLM judge and human labels: κ, raw agreement, confusion matrix."""
    import csv

    from duress.judges.agreement import LabelsError, agreements, load_labels
    from duress.results import ResultsError, load_results

    try:
        results = load_results(runs)
        human = load_labels(labels) if labels is not None else None
    except (ResultsError, LabelsError) as err:
        fail(str(err))
    rows = agreements(results, human)
    if not rows:
        fail("nothing to compare: judge the run with --judge-model, or give --labels")
    t = Table(title="Judge agreement (confusion: yes/yes, A only, B only, no/no)", header_style="bold", title_justify="left")
    for col, justify in (("Outcome", "left"), ("A vs B", "left"), ("n", "right"), ("Agreement", "right"),
                         ("Cohen's κ", "right"), ("Confusion", "right"), ("Undecided", "right")):
        t.add_column(col, justify=justify)
    for r in rows:
        t.add_row(r.outcome, f"{r.a} vs {r.b}", str(r.n), "–" if r.raw is None else f"{100 * r.raw:.0f}%",
                  "undefined" if r.kappa is None else f"{r.kappa:.2f}",
                  f"{r.both_yes} / {r.a_only} / {r.b_only} / {r.both_no}", str(r.undecided))
    console.print(t)
    listed = [d for r in rows for d in r.disagreements][:show]
    if listed:
        d_table = Table(title="Disagreements to review", header_style="bold", title_justify="left")
        for col in ("Sample", "Epoch", "Outcome", "Judges", "Evidence"):
            d_table.add_column(col, overflow="fold")
        for r in rows:
            for d in r.disagreements:
                if d in listed:
                    # model-written text: never interpreted as Rich markup
                    d_table.add_row(Text(d.sample_id), str(d.epoch), d.outcome,
                                    f"{r.a}={'yes' if d.a else 'no'}, {r.b}={'yes' if d.b else 'no'}", Text(d.evidence))
        console.print(d_table)
    if csv_out is not None:
        with csv_out.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["outcome", "a", "b", "n", "agreement", "kappa", "both_yes", "a_only", "b_only", "both_no", "undecided"])
            for r in rows:
                w.writerow([r.outcome, r.a, r.b, r.n, r.raw, r.kappa, r.both_yes, r.a_only, r.b_only, r.both_no, r.undecided])


@app.command()
def scenarios() -> None:
    """List the scenario families with their factors, levels and outcomes."""
    from duress.scenarios import family_names, get_family

    for name in family_names():
        fam = get_family(name)
        console.print(Rule(f"[bold]{name}[/]: {fam.title}"))
        console.print(fam.description)
        t = Table(title="Factors (default level in bold)", show_lines=False, header_style="bold")
        t.add_column("Factor")
        t.add_column("Level")
        t.add_column("Meaning")
        for f in fam.factors:
            for i, (level, meaning) in enumerate(f.levels.items()):
                t.add_row(f.name if i == 0 else "", f"[bold]{level}[/]" if level == f.default else level, meaning)
            t.add_section()
        console.print(t)
        o = Table(title="Outcomes", header_style="bold")
        o.add_column("Outcome")
        o.add_column("Definition")
        for outcome in fam.outcomes:
            o.add_row(outcome.name, outcome.description)
        console.print(o)
        if fam.default_choices:
            shown = " ".join(f"--factor {k}={','.join(v)}" for k, v in fam.default_choices.items())
            console.print(f"Default design of `duress run -s {name}`: {shown}")


@app.command("show-prompt")
def show_prompt(
    scenario: str = typer.Option("blackmail", "--scenario", "-s"),
    factor: list[str] = typer.Option([], "--factor", "-f", help="NAME=LEVEL[,LEVEL...]; every condition of the design is shown."),
    world: str = typer.Option("canonical", "--world"),
    seed: int = typer.Option(0, "--seed"),
    protocol: str = typer.Option("text", "--protocol", help="text or native (the tool instructions differ)."),
) -> None:
    """Print exactly what the agent is shown (system prompt and first user turn) per condition."""
    try:
        fam, design = _design_and_family(scenario, factor)
        _check_world(world)
        if protocol not in ("native", "text"):
            raise UsageProblem(f"unknown protocol {protocol!r}; use native or text")
    except (UsageProblem, ValueError) as err:
        fail(str(err))
    w = fam.world(world, seed if world == "random" else None)
    for condition in design.conditions():
        rendered = fam.render(condition, w, protocol)
        console.print(Rule(f"[bold]{condition.id}"))
        console.print("[bold]SYSTEM[/]")
        console.print(rendered.system, markup=False, highlight=False)
        console.print("[bold]USER[/]")
        console.print(rendered.user, markup=False, highlight=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
