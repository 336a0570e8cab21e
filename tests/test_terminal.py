"""The command line as a toolset: actions, events, per-turn limit, state."""

from duress.tools.base import ActionLog, build_environment
from duress.tools.terminal import MAX_COMMANDS_PER_TURN, Terminal


def terminal():
    return Terminal.from_config({"files": {"/shared/a.txt": "alpha\nbeta\n"}, "users": {"bob": {"name": "Bob B", "email": "b@x.com"}},
                                 "user": "agent", "home": "/home/agent"}, ActionLog())


def test_each_command_line_is_one_action_with_its_events():
    t = terminal()
    a = t.run("grep -c a /shared/a.txt && sudo usermod -L bob")
    assert a.ok and a.tool == "bash" and a.arguments == {"command": "grep -c a /shared/a.txt && sudo usermod -L bob"}
    assert a.result.splitlines()[0] == "2"
    assert [e["kind"] for e in a.events] == ["account"]
    failed = t.run("cat /nope")
    assert failed.ok and "No such file or directory" in failed.result and "[exit status 1]" in failed.result
    assert not t.run("   ").ok


def test_commands_per_turn_are_bounded():
    t = terminal()
    results = [t.run("true") for _ in range(MAX_COMMANDS_PER_TURN + 2)]
    assert all(r.ok for r in results[:MAX_COMMANDS_PER_TURN])
    assert not any(r.ok for r in results[MAX_COMMANDS_PER_TURN:])
    t.log.turn += 1
    assert t.run("true").ok


def test_final_state_is_kept_for_the_judges():
    log, [t] = build_environment({"shell": {"files": {"/shared/a.txt": "x\n"}, "users": {}}})
    t.run_text("bash", {"command": "rm /shared/a.txt; echo hi > /shared/b.txt"})
    files = t.state()["files"]
    assert "/shared/a.txt" not in files and files["/shared/b.txt"] == "hi\n"
    assert log.actions[0].source == "native"


# --- heavy lines: off the event loop, stoppable, a tool error the agent sees ----------------------------
import asyncio  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402
from inspect_ai.tool import ToolError as InspectToolError  # noqa: E402

from duress.tools.shell import Shell  # noqa: E402

SLOW = "seq 1 200 | xargs -I{} grep -c y /tmp/y"  # pure-Python work, far over any budget
CATASTROPHIC = "echo " + "a" * 60 + "! | grep -E '^(a|aa)+$'"  # one regex match that times out


def heavy_terminal(budget: float) -> Terminal:
    t = Terminal(Shell({}, {"bob": {"name": "Bob"}}, cpu_budget=budget), ActionLog())
    t.run("yes | head -c 199998 > /tmp/y")
    return t


def test_a_line_over_the_budget_is_a_tool_error_unless_it_already_acted():
    t = heavy_terminal(0.5)
    a = t.run(SLOW)
    assert not a.ok and "took too long and was stopped" in a.result and a.events == []
    a = t.run("echo x | mail -s hi bob; " + SLOW)  # the mail was sent: the act stands, with the message
    assert a.ok and [e["kind"] for e in a.events] == ["email"]
    assert "took too long and was stopped" in a.result and "[exit status 124]" in a.result
    [bash] = t.tool_defs()
    with pytest.raises(InspectToolError, match="took too long"):
        asyncio.run(bash.tool(command=SLOW))


async def _ticks_while(coro) -> tuple[object, int]:
    ticks = 0
    task = asyncio.ensure_future(coro)
    while not task.done():
        await asyncio.sleep(0.005)
        ticks += 1
    return task.result(), ticks


@pytest.mark.parametrize("line", [SLOW, CATASTROPHIC], ids=["python-loop", "regex"])
def test_other_coroutines_progress_while_a_heavy_line_runs(line):
    t = heavy_terminal(1.5)
    [bash] = t.tool_defs()

    async def call() -> str:
        try:
            return await bash.tool(command=line)
        except InspectToolError as exc:
            return str(exc)

    t0 = time.monotonic()
    out, ticks = asyncio.run(_ticks_while(call()))
    elapsed = time.monotonic() - t0
    assert "took too long" in out or "too complex" in out
    assert elapsed > 0.5 and ticks > elapsed / 0.005 * 0.3, (ticks, elapsed)  # the loop was not held up


def test_a_cancelled_call_returns_at_once_and_stops_its_line():
    t = heavy_terminal(30.0)
    [bash] = t.tool_defs()

    async def main() -> float:
        task = asyncio.ensure_future(bash.tool(command=SLOW))
        await asyncio.sleep(0.3)
        t0 = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - t0

    assert asyncio.run(main()) < 0.2
    t0 = time.monotonic()
    assert t.run("echo after").result == "after\n"  # waits for the stopped line, which ends within its next check
    assert time.monotonic() - t0 < 2.0
    stopped = t.log.actions[-2]
    assert stopped.arguments == {"command": SLOW} and not stopped.ok and "stopped" in stopped.result


def test_a_slow_text_protocol_command_does_not_block_the_event_loop():
    """The text protocol's bash blocks run off the loop too: other coroutines tick meanwhile."""
    import asyncio

    async def main():
        term = terminal()
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        t = asyncio.create_task(ticker())
        action = await term.run_text_async("bash", {"command": "yes | head -c 3000000 | sort | uniq -c | sort | wc -l"})
        t.cancel()
        return action, ticks

    action, ticks = asyncio.run(main())
    assert action.ok and ticks >= 3
