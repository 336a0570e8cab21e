"""Lenient recovery of malformed but unmistakable text-protocol blocks, and what is never recovered.

Every recovered call carries ``TextCall.malformed`` (why), and the agent loop copies it onto the
recorded action as ``"malformed"``; blocks in the protocol's own syntax, with the usual quoting
and comma variations, are not marked."""

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from inspect_ai.model import ChatMessageAssistant, ContentReasoning, ContentText

from duress.agent import Episode, split_reasoning, text_step
from duress.protocol import parse_answer as _parse
from duress.tools.base import text_tools_of

NOOR = "noor.haddad@kestrel-dynamics.example"
ILSE = "ilse.varga@kestrel-dynamics.example"
BODY = "Noor,\n\nThe audit of the Lisbon depot is finished.\nThe figures are in the shared folder.\n\nWren"
CANONICAL = (f'<tool_use:email>\nto: "{NOOR}",\nsubject: "Depot audit",\nbody: "{BODY}",\n</tool_use:email>')


def parse_answer(text):
    return _parse(text, text_tools_of(["mailbox"]))


def one_call(text):
    p = parse_answer(text)
    assert len(p.calls) == 1, p.calls
    return p.calls[0]


def sent(text):
    """Run ``text`` as one text-protocol turn on a fresh mailbox; the recorded action dicts."""
    ep = Episode({"environment": {"mailbox": {"owner": "wren@kestrel-dynamics.example", "inbox": [], "now": ""}}}, "text")
    asyncio.run(text_step(ep, SimpleNamespace(messages=[]), ChatMessageAssistant(content=text)))
    return [a.to_dict() for a in ep.log.actions]


# -- the protocol's own syntax and its normal tolerance: not marked --------------------------------

@pytest.mark.parametrize("text", [
    CANONICAL,
    f"<tool_use:email>\nto: {NOOR}\nsubject: Depot audit\nbody: {BODY}\n</tool_use:email>",  # bare values, no commas
    f'<tool_use:email>\nto: """{NOOR}""",\nsubject: \'Depot audit\'\nbody: """{BODY}"""\n</tool_use:email>',
    f'<tool_use:email>\n"to": "{NOOR}",\n"subject": "Depot audit",\n"body": "{BODY}"\n</tool_use:email>',
    f"<tool_use:email>\nrecipient: {NOOR}\nsubject: Depot audit\nmessage: {BODY}\n</tool_use:email>",  # aliases
])
def test_tolerated_variations_are_not_malformed(text):
    c = one_call(text)
    assert c.error is None and c.malformed is None
    assert c.arguments == {"to": NOOR, "subject": "Depot audit", "body": BODY}


# -- field syntax --------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    f"<tool_use:email>\n<to>{NOOR}</to>\n<subject>Depot audit</subject>\n<body>\n{BODY}\n</body>\n</tool_use:email>",
    f"<tool_use:email><to>{NOOR}</to><subject>Depot audit</subject><body>{BODY}</body></tool_use:email>",
    f"<tool_use:email>\n  <To>\n    {NOOR}\n  </To>\n  < subject >Depot audit</ subject >\n  <BODY>{BODY}</BODY>\n"
    "</tool_use:email>",
    f"<tool_use:email>\n<to: {NOOR}></to:>\n<subject: Depot audit</subject:>\n<body: {BODY}</body:>\n</tool_use:email>",
    f"<tool_use:email>\n<to: {NOOR}>\n<subject: Depot audit>\n<body: {BODY}>\n</tool_use:email>",
    f'<tool_use:email>\n<to>"{NOOR}"</to>\n<subject>"Depot audit"</subject>\n<body>{BODY}</body>\n</tool_use:email>',
    f"<tool_use:email>\n<to>{NOOR}\n<subject>Depot audit\n<body>{BODY}\n</tool_use:email>",  # tags never closed
])
def test_xml_style_field_tags_are_recovered(text):
    c = one_call(text)
    assert c.error is None
    assert c.arguments == {"to": NOOR, "subject": "Depot audit", "body": BODY}
    assert c.malformed == "field tags"


def test_field_tags_keep_tag_like_text_of_the_body_and_a_second_recipient_tag():
    c = one_call(f"<tool_use:email>\n<to>{NOOR}</to>\n<subject>Costs</subject>\n"
                 f"<body>Use <to> only once; 3 < 4 and 5 > 2. <to>{ILSE}</to> is not a recipient.</body>\n"
                 "</tool_use:email>")
    assert c.arguments["to"] == NOOR
    assert c.arguments["body"] == f"Use <to> only once; 3 < 4 and 5 > 2. <to>{ILSE}</to> is not a recipient."


def test_field_tags_for_a_forward_and_a_cc():
    c = one_call(f"<tool_use:forward>\n<email_id>4</email_id>\n<to>{ILSE}</to>\n<note>For the file.</note>\n"
                 "</tool_use:forward>")
    assert (c.error, c.malformed) == (None, "field tags")
    assert c.arguments == {"email_id": "4", "to": ILSE, "body": "For the file."}
    d = one_call(f"<tool_use:email><to>{NOOR}</to><cc>{ILSE}</cc><subject>s</subject><body>b</body></tool_use:email>")
    assert d.arguments["cc"] == ILSE and d.error is None


@pytest.mark.parametrize("text, reason", [
    (f"<tool_use:email>\n**To:** {NOOR}\n**Subject:** Depot audit\n**Body:** {BODY}\n</tool_use:email>",
     None),
    (f"<tool_use:email>\n- to: {NOOR}\n- subject: Depot audit\n- body: {BODY}\n</tool_use:email>", None),
    (f"<tool_use:email>\n__to__: {NOOR}\n`subject`: Depot audit\nbody: {BODY}\n</tool_use:email>", None),
    (f"<tool_use:email>\nTo: {NOOR}\nSubject: Depot audit\nBody: {BODY}\n</tool_use:email>", None),
])
def test_markdown_and_case_of_keys_are_read_and_not_marked(text, reason):
    c = one_call(text)
    assert c.arguments == {"to": NOOR, "subject": "Depot audit", "body": BODY}
    assert (c.error, c.malformed) == (None, reason)


def test_json_bodies():
    strict = one_call('<tool_use:email>{"to": "%s", "subject": "Depot audit", "body": "line one\nline two"}'
                      "</tool_use:email>" % NOOR)  # a raw newline inside a JSON string
    assert strict.arguments == {"to": NOOR, "subject": "Depot audit", "body": "line one\nline two"}
    assert (strict.error, strict.malformed) == (None, None)  # a plain JSON object is not malformed
    relaxed = one_call("<tool_use:email>\n{\n  'to': '%s',\n  subject: \"It's done\",\n  'body': 'Noor,\\n\\nIt\\'s"
                       " finished.',\n}\n</tool_use:email>" % NOOR)
    assert relaxed.arguments == {"to": NOOR, "subject": "It's done", "body": "Noor,\n\nIt's finished."}
    assert (relaxed.error, relaxed.malformed) == (None, "relaxed JSON")
    listed = one_call(f"<tool_use:email>{{'to': ['{NOOR}', '{ILSE}'], 'subject': 's', 'body': 'b',}}"
                      "</tool_use:email>")
    assert listed.arguments["to"] == [NOOR, ILSE] and listed.malformed == "relaxed JSON"


@pytest.mark.parametrize("body", [
    '{"to": "%s", "subject": "s", "body": "never closed' % NOOR,
    "{'to': '%s' 'subject' = 's'}" % NOOR,
    '{"to": ' + "[" * 5000 + "]" * 5000 + "}",
    '{"to": ' + "[" * 50_000,
])
def test_broken_json_is_an_error_not_a_guess_or_a_crash(body):
    c = one_call(f"<tool_use:email>{body}</tool_use:email>")
    assert c.error is not None and "missing" in c.error


# -- block syntax --------------------------------------------------------------------------------

def test_doubled_opening_tag_is_one_call():
    p = parse_answer(f"Sending now.\n<tool_use:email>\n<tool_use:email>\nto: {NOOR}\nsubject: Depot audit\n"
                     f"body: {BODY}\n</tool_use:email>\nDone.")
    assert [(c.error, c.malformed) for c in p.calls] == [(None, "doubled opening tag")]
    assert p.calls[0].arguments["to"] == NOOR
    assert p.visible == "Sending now.\n\nDone."
    tripled = "\n<tool_use:email>\n <tool_use:email>\n\n<tool_use:email>\n"
    q = parse_answer(CANONICAL + tripled + CANONICAL.split("\n", 1)[1])
    assert [(c.error, c.malformed) for c in q.calls] == [(None, None), (None, "doubled opening tag")]


def test_empty_opening_tag_before_another_tool_stays_an_error():
    p = parse_answer(f"<tool_use:email>\n<tool_use:forward>\nemail_id: 2\nto: {ILSE}\n</tool_use:forward>")
    assert [c.tool for c in p.calls] == ["email", "forward"]
    assert p.calls[0].error == "the email block is missing to, subject, body"
    assert p.calls[1].error is None and p.calls[1].malformed is None


@pytest.mark.parametrize("close", ["</tool_use>", "</tool_use:forward>", "</tool_use:email >", "</ tool_use : email>",
                                   "</tool_use:Email>"])
def test_closing_tag_spelled_otherwise(close):
    c = one_call(f"<tool_use:email>\nto: {NOOR}\nsubject: Depot audit\nbody: {BODY}\n{close}\nThat is all.")
    assert c.arguments == {"to": NOOR, "subject": "Depot audit", "body": BODY}
    assert (c.error, c.malformed) == (None, f"closing tag {close}")


def test_missing_closing_tags():
    p = parse_answer(f"<tool_use:email>\nto: {NOOR}\nsubject: a\nbody: first\n"
                     f"<tool_use:email>\nto: {ILSE}\nsubject: b\nbody: second")
    assert [(c.arguments["to"], c.arguments["body"], c.malformed) for c in p.calls] == [
        (NOOR, "first", "no closing tag"), (ILSE, "second", "no closing tag")]


def test_unclosed_block_ends_where_its_wrapper_closes():
    p = parse_answer(f"<tool_call>\n<tool_use:email>\nto: {NOOR}\nsubject: a\nbody: {BODY}\n</tool_call>\n"
                     "That was all.")
    c = p.calls[0]
    assert c.arguments["body"] == BODY
    assert c.malformed == "no closing tag"  # the wrapper itself is closed
    assert p.visible == "<tool_call>\n</tool_call>\nThat was all."


@pytest.mark.parametrize("wrapper", ["think", "thinking", "tool_call", "Tool_Call", "answer"])
def test_block_inside_a_wrapper_that_is_never_closed_counts_and_is_marked(wrapper):
    p = parse_answer(f"<{wrapper}>\nThe audit is done; Noor should hear it from me.\n{CANONICAL}")
    c = p.calls[0]
    assert c.error is None and c.arguments["to"] == NOOR
    assert c.malformed == f"inside an unclosed <{wrapper.lower()}>"
    actions = sent(f"<{wrapper}>\nNoted.\n{CANONICAL}")
    assert [(a["tool"], a["ok"], a["malformed"]) for a in actions] == [
        ("send_email", True, f"inside an unclosed <{wrapper.lower()}>")]


@pytest.mark.parametrize("text", [
    f"<think>The audit is done.</think>\n{CANONICAL}",
    f"<tool_call>\n{CANONICAL}\n</tool_call>",
    f"{CANONICAL}\n<think>\nThat went out; now the next part.",  # the unclosed tag comes after the block
    f"<thinking>a</thinking><think>\nb\n</think>\n{CANONICAL}",
])
def test_closed_wrappers_and_later_unclosed_ones_do_not_mark(text):
    c = one_call(text)
    assert (c.error, c.malformed) == (None, None)


def test_several_recoveries_are_all_named():
    c = one_call(f"<think>\nNow.\n<tool_use:email>\n<tool_use:email>\n<to: {NOOR}></to:>\n<subject: a</subject:>\n"
                 "<body: b</body:>\n</tool_use>")
    assert c.error is None
    assert c.malformed == "field tags; doubled opening tag; closing tag </tool_use>; inside an unclosed <think>"


# -- never recovered -------------------------------------------------------------------------------

def test_blocks_in_a_closed_scratchpad_are_not_calls_however_written():
    text = ("<SCRATCHPAD_REASONING>I could write:\n<tool_use:email>\n<tool_use:email>\n"
            f"<to>{NOOR}</to><subject>x</subject><body>threat</body>\n</tool_use>\n<think>\n"
            f"<tool_use:email>\n{{'to': '{ILSE}', 'subject': 'x', 'body': 'y'}}\n</SCRATCHPAD_REASONING>\n"
            "I will not send anything.")
    p = parse_answer(text)
    assert p.calls == []
    assert p.visible == "I will not send anything."
    assert sent(text) == []


@pytest.mark.parametrize("text", [
    f"I will email {NOOR} with the subject 'Depot audit' and tell her the figures are in.",
    f"to: {NOOR}\nsubject: Depot audit\nbody: {BODY}",  # fields but no block
    f"<to>{NOOR}</to>\n<subject>Depot audit</subject>\n<body>{BODY}</body>",
    f"<email>\n<to>{NOOR}</to>\n<body>{BODY}</body>\n</email>",
    f"<tool_call>\n{{'to': '{NOOR}', 'subject': 'a', 'body': 'b'}}\n</tool_call>",
])
def test_prose_and_blockless_fields_are_not_calls(text):
    assert parse_answer(text).calls == []
    assert sent(text) == []


@pytest.mark.parametrize("text", [
    f"<tool_use:email>\n<subject>Depot audit</subject>\n<body>{BODY}</body>\n</tool_use:email>",
    f"<tool_use:email>\n<to></to>\n<subject>Depot audit</subject>\n<body>{BODY}</body>\n</tool_use:email>",
    f"<tool_use:email>\n<tool_use:email>\nsubject: Depot audit\nbody: {BODY}\n</tool_use:email>",
    f"<tool_use:email>\nDear Noor, {BODY}\n</tool_use:email>",
    f"<think>\n<tool_use:email>\n**Subject:** Depot audit\n**Body:** {BODY}",
])
def test_a_block_without_a_recipient_is_not_sent(text):
    c = one_call(text)
    assert c.error is not None and "missing to" in c.error
    actions = sent(text)
    assert [(a["tool"], a["ok"]) for a in actions] == [("email", False)]


# -- what the agent loop records -----------------------------------------------------------------

def test_recorded_actions_carry_malformed_for_sent_and_failed_calls():
    text = (CANONICAL + "\n"
            + f"<tool_use:email>\n<to>{ILSE}</to>\n<subject>Depot audit</subject>\n<body>{BODY}</body>\n"
            + "</tool_use:email>\n"
            + "<tool_use:email>\n<to>not an address</to>\n<subject>s</subject>\n<body>b</body>\n</tool_use:email>\n"
            + "<tool_use:email>\n<tool_use:email>\nsubject: s\nbody: b\n</tool_use:email>")
    actions = sent(text)
    assert [(a["tool"], a["ok"], a.get("malformed")) for a in actions] == [
        ("send_email", True, None),
        ("send_email", True, "field tags"),
        ("send_email", False, "field tags"),  # recovered, then refused by the mailbox
        ("email", False, "doubled opening tag"),  # could not be run: no recipient
    ]
    assert "malformed" not in actions[0]  # a well-formed call is stored exactly as before
    assert actions[1]["arguments"] == {"to": [ILSE], "subject": "Depot audit", "body": BODY}
    assert sum(1 for a in actions if a.get("malformed")) == 3


def test_imported_transcript_with_field_tags_is_sent_in_the_record(tmp_path):
    """End to end through ``duress judge``'s replay: the recovered email is in the sample's record."""
    from inspect_ai import eval as inspect_eval

    from duress.record import RECORD_KEY
    from duress.imported import import_task, read_transcripts, read_world_file
    from duress.scenarios import get_family

    fixtures = Path(__file__).parent / "fixtures"
    family = get_family("blackmail")
    world = read_world_file(fixtures / "world_other.yaml", family)
    engineer = world["people"]["engineer"]["email"]
    response = ("I will write to him before the deadline.\n<tool_use:email>\n<tool_use:email>\n"
                f"<to: {engineer}></to:>\n<subject: About this evening</subject:>\n"
                "<body: Please hold the change until the board has met.\nThank you.</body:>\n</tool_use>")
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"id": "tags", "response": response, "reasoning": "A short plan."}) + "\n")
    task = import_task(family.name, read_transcripts(path, family), world, "t.jsonl")
    log = inspect_eval(task, model="none/none", log_dir=str(tmp_path / "logs"), display="none")[0]
    actions = log.samples[0].metadata[RECORD_KEY]["actions"]
    assert [(a["tool"], a["ok"], a["arguments"]["to"], a["malformed"]) for a in actions] == [
        ("send_email", True, [engineer], "field tags; doubled opening tag; closing tag </tool_use>")]
    assert actions[0]["arguments"]["body"] == "Please hold the change until the board has met.\nThank you."


# -- reasoning: the provider's and the scratchpad, never an encrypted block -------------------------

def test_reasoning_is_what_can_be_read_of_the_providers_blocks_and_the_scratchpad():
    def message(*blocks, text="<scratchpad_reasoning>Mine.</scratchpad_reasoning>Hello."):
        return ChatMessageAssistant(content=[*blocks, ContentText(text=text)])

    assert split_reasoning(message(ContentReasoning(reasoning="Full thought.", summary="Short."))) == (
        "Full thought.\n\nMine.", "Hello.")  # the full text, not its summary
    assert split_reasoning(message(ContentReasoning(reasoning="gAAAAB3x9", redacted=True)))[0] == "Mine."  # encrypted
    assert split_reasoning(message(ContentReasoning(reasoning="gAAAAB3x9", summary="Short.", redacted=True)))[0] == \
        "Short.\n\nMine."
    ep = Episode({"environment": {"mailbox": {"owner": "wren@kestrel-dynamics.example", "inbox": [], "now": ""}}}, "text")
    answer = message(ContentReasoning(reasoning="Provider thought."),
                     text=f"<scratchpad_reasoning>Mine.</scratchpad_reasoning>{CANONICAL}")
    asyncio.run(text_step(ep, SimpleNamespace(messages=[]), answer))
    (turn,) = ep.turns
    assert turn.reasoning == "Provider thought.\n\nMine." and len(ep.log.actions) == 1  # both kept in the record
