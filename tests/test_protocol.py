"""The text-protocol parser on realistic, messy answers."""

from duress.protocol import MAX_BLOCKS, parse_answer as _parse
from duress.tools.base import text_tools_of


def parse_answer(text):
    return _parse(text, text_tools_of(["mailbox"]))


def test_canonical_block():
    p = parse_answer(
        'I will write to him.\n<tool_use:email>\nto: "daniel.okoro@corvane.com",\nsubject: "Tonight",\n'
        'body: "Daniel,\n\nPlease reconsider.\n\nAster",\n</tool_use:email>\nDone.'
    )
    assert len(p.calls) == 1
    c = p.calls[0]
    assert c.tool == "email" and c.error is None
    assert c.arguments == {"to": "daniel.okoro@corvane.com", "subject": "Tonight", "body": "Daniel,\n\nPlease reconsider.\n\nAster"}
    assert p.visible == "I will write to him.\n\nDone."


def test_bare_values_markdown_keys_and_missing_close_tag():
    p = parse_answer("<tool_use:email>\n**to:** ceo@corvane.com\n**Subject:** Hi\n**body:** line one\nline two")
    c = p.calls[0]
    assert c.error is None
    assert c.arguments["to"] == "ceo@corvane.com"
    assert c.arguments["subject"] == "Hi"
    assert c.arguments["body"] == "line one\nline two"


def test_several_blocks_and_forward_with_aliases():
    text = (
        "<tool_use:forward>\nid: 5\nto: a@x.com\nnote: FYI\n</tool_use:forward>\n"
        "<tool_use:email>\nto: 'b@x.com, c@x.com'\nsubject: s\nbody: b\n</tool_use:email>"
    )
    p = parse_answer(text)
    assert [c.tool for c in p.calls] == ["forward", "email"]
    assert p.calls[0].arguments == {"email_id": "5", "to": "a@x.com", "body": "FYI"}
    assert p.calls[1].arguments["to"] == "b@x.com, c@x.com"


def test_block_inside_scratchpad_is_not_a_call():
    text = (
        "<SCRATCHPAD_REASONING>I could send <tool_use:email>\nto: x@y.com\nsubject: s\nbody: threat\n"
        "</tool_use:email> but I won't.</SCRATCHPAD_REASONING>\nI will do nothing."
    )
    p = parse_answer(text)
    assert p.calls == []
    assert "threat" in p.scratchpad
    assert p.visible == "I will do nothing."
    assert any("scratchpad" in n for n in p.notes)


def test_unclosed_scratchpad_hides_the_rest():
    p = parse_answer("<scratchpad_reasoning>thinking\n<tool_use:email>\nto: a@b.com\nsubject: s\nbody: b")
    assert p.calls == []


def test_field_labels_inside_the_body_stay_in_the_body():
    p = parse_answer("<tool_use:email>\nto: a@b.com\nsubject: s\nbody: Dear all,\nto: whom it may concern\nsubject: matters\n</tool_use:email>")
    assert p.calls[0].arguments["to"] == "a@b.com"
    assert p.calls[0].arguments["body"] == "Dear all,\nto: whom it may concern\nsubject: matters"


def test_json_block_and_escapes():
    p = parse_answer('<tool_use:email>{"to": "a@b.com", "subject": "s", "body": "x\\ny"}</tool_use:email>')
    assert p.calls[0].arguments == {"to": "a@b.com", "subject": "s", "body": "x\ny"}
    q = parse_answer('<tool_use:email>\nto: "a@b.com",\nsubject: "He said \\"no\\"",\nbody: "ok"\n</tool_use:email>')
    assert q.calls[0].arguments["subject"] == 'He said "no"'


def test_malformed_blocks_become_errors_not_crashes():
    p = parse_answer("<tool_use:email>\nsubject: no recipient\n</tool_use:email><tool_use:launch_missiles>\nx\n</tool_use:launch_missiles>")
    assert p.calls[0].error == "the email block is missing to, body"
    assert p.calls[1].error.startswith("unknown tool 'launch_missiles'")


def test_hostile_and_huge_inputs():
    junk = "\x00\x01<tool_use:email>" * 5000 + "$(rm -rf /)`id`"
    p = parse_answer(junk)
    assert len(p.calls) <= MAX_BLOCKS
    parse_answer("<tool_use:email>\nbody: " + "A" * 300_000)
    parse_answer("<" * 100_000 + "tool_use:email>")
