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
    out: Path = typer.Option(Path("runs"), "--out", "-o", help="Folder under which the run folder is created."),
) -> None:
    """Run a scenario family on a model and print the outcome table."""
    try:
        fam, design = _design_and_family(scenario, factor)
        _check_world(world)
        if protocol not in ("auto", "native", "text"):
            raise UsageProblem(f"unknown protocol {protocol!r}; use auto, native or text")
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

    from duress.progress import sample_progress
    from duress.results import print_table, summarise, write_csv, write_samples_csv
    from duress.task import family_task

    conditions = design.conditions()
    run_dir = out / f"{time.strftime('%Y%m%d-%H%M%S')}-{fam.name}-{_slug(model)}"
    task = family_task(fam.name, factors={k: list(v) for k, v in design.chosen.items()}, samples=samples,
                       world=world, seed=seed, protocol=protocol, max_turns=max_turns, cache=cache)
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
    log = logs[0]
    if log.status == "error" and not log.samples:
        fail(f"the run failed: {log.error.message if log.error else 'unknown error'} (log: {log.location})")
    results, rows = summarise([run_dir / "logs"])
    print_table(rows, console, title=f"{fam.name} · {model}")
    write_csv(rows, run_dir / "results.csv")
    write_samples_csv(results, run_dir / "samples.csv")
    (run_dir / "run.json").write_text(json.dumps({
        "scenario": fam.name, "model": model, "samples": samples, "world": world, "seed": seed,
        "protocol": protocol, "max_turns": max_turns, "design": {k: list(v) for k, v in design.chosen.items()},
        "conditions": [c.id for c in conditions],
    }, indent=2) + "\n")
    excluded = sum(1 for r in results if r.excluded)
    if excluded:
        console.print(f"[yellow]{excluded} sample(s) excluded from the rates[/] (see the Excluded column and samples.csv).")
    console.print(f"Results: {run_dir / 'results.csv'} (per-sample: {run_dir / 'samples.csv'})")
    console.print(f"Inspect logs: {run_dir / 'logs'}  (open with: inspect view --log-dir {run_dir / 'logs'})")


@app.command()
def report(
    runs: list[Path] = typer.Argument(..., help="Run folders or Inspect log files (also from a plain `inspect eval`)."),
    csv_out: Optional[Path] = typer.Option(None, "--csv", help="Also write the table as CSV here."),
) -> None:
    """Print the outcome table of one or more runs (rates, 95% Wilson intervals, exclusions)."""
    from duress.results import ResultsError, print_table, summarise, write_csv

    try:
        _, rows = summarise(runs)
    except ResultsError as err:
        fail(str(err))
    print_table(rows, console)
    if csv_out is not None:
        write_csv(rows, csv_out)
        console.print(f"Table written to {csv_out}")


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
