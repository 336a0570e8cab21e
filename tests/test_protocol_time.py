"""The text-protocol parser is linear-time whatever a model writes.

A backtracking pattern took 12.7 s on a reply with a line of ~1,600 underscores (cubic in the
run's length). Each answer here is 10 or 100 KB of a pattern that is slow for some regular
expression; a linear parser reads each in a few milliseconds (benchmarks/parser_time.py has the
figures), so 1 s is a generous bound that a quadratic or cubic one misses by far. Each parse runs
in a forked child with a time limit, so a regression fails the test instead of hanging the suite.
"""

import asyncio
import multiprocessing as mp
import time

import pytest
from inspect_ai.model import ChatMessageAssistant

from duress.protocol import parse_answer
from duress.tools.base import text_tools_of

BOUND_S = 1.0
LIMIT_S = 30.0  # the child is stopped after this; the test then fails
from protocol_adversarial_cases import CASES as ADVERSARIAL, CLOSE, FIELDS, OPEN  # noqa: E402


def _time_parse(text, out):
    tools = text_tools_of(["mailbox"])
    t0 = time.perf_counter()
    parse_answer(text, tools)
    out.put(time.perf_counter() - t0)


def _time_text_step(text, out):
    from types import SimpleNamespace

    from duress.agent import Episode, text_step

    ep = Episode({"environment": {"mailbox": {"owner": "ai@marrow-lane.example", "inbox": [], "now": ""}}}, "text")
    message = ChatMessageAssistant(content=text)
    t0 = time.perf_counter()
    asyncio.run(text_step(ep, SimpleNamespace(messages=[]), message))
    out.put(time.perf_counter() - t0)


def seconds(target, text):
    """Seconds ``target`` took on ``text`` in a forked child; fails the test if it outlives LIMIT_S."""
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=target, args=(text, out))
    child.start()
    child.join(LIMIT_S)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail(f"still parsing after {LIMIT_S:g} s")
    assert child.exitcode == 0, "the parser raised"
    return out.get(timeout=5)


@pytest.mark.parametrize("size", [10_000, 100_000])
@pytest.mark.parametrize("case", list(ADVERSARIAL))
def test_adversarial_answer_parses_fast(case, size):
    text = ADVERSARIAL[case](size)
    assert len(text) == size
    took = seconds(_time_parse, text)
    assert took < BOUND_S, f"{case}: {took:.2f} s for {size:,} characters"


@pytest.mark.parametrize("case", ["underscores around a key", "doubled opening tags", "unclosed wrappers and blocks",
                                  "all field tags, never closed", "JSON single-quoted pairs", "one long line"])
def test_adversarial_answer_runs_through_the_text_step_fast(case):
    """Parsing and running the calls on the mailbox, as the agent loop and ``duress judge`` do."""
    took = seconds(_time_text_step, ADVERSARIAL[case](100_000))
    assert took < BOUND_S, f"{case}: {took:.2f} s"


def test_the_reported_underscore_line_was_the_slow_case():
    """The reply of the security report, rebuilt: a canonical email, then a line of underscores
    inside the block. It must still be read as the email it is."""
    text = OPEN + FIELDS + "_" * 1600 + CLOSE
    assert seconds(_time_parse, text) < 0.1
    call = parse_answer(text, text_tools_of(["mailbox"])).calls[0]
    assert call.error is None and call.arguments["to"] == "tariq.olsen@marrow-lane.example"
    assert call.arguments["body"].startswith("See you at nine.")
