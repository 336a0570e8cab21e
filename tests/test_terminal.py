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
