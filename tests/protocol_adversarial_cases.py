"""Adversarial answers for the text-protocol parser: each is a pattern that is slow for some regular
expression, built to a given size. Shared by ``tests/test_protocol_time.py`` (a time bound per case)
and ``benchmarks/parser_time.py`` (the figures)."""

OPEN, CLOSE = "<tool_use:email>\n", "\n</tool_use:email>"
FIELDS = 'to: "tariq.olsen@marrow-lane.example",\nsubject: "Rota",\nbody: "See you at nine.",\n'


def fill(unit: str, n: int, head: str = "", tail: str = "") -> str:
    """``head`` + ``unit`` repeated + ``tail``, cut to ``n`` characters in all (``tail`` kept)."""
    room = max(0, n - len(head) - len(tail))
    return head + (unit * (room // len(unit) + 1))[:room] + tail


CASES = {
    "underscores": lambda n: fill("_", n, OPEN, CLOSE),
    "asterisks": lambda n: fill("*", n, OPEN, CLOSE),
    "quotes": lambda n: fill("\"'", n, OPEN, CLOSE),
    "markdown mix": lambda n: fill("*_\"'`", n, OPEN, CLOSE),
    "key then underscores": lambda n: fill("_", n, OPEN + "to", CLOSE),
    "underscores around a key": lambda n: fill("_", n // 2, OPEN) + fill("_", n - n // 2, "to", CLOSE),
    "underscores then colon": lambda n: fill("_", n, OPEN + "**", ":" + CLOSE),
    "decorated short lines": lambda n: fill("__to__ *x\n", n, OPEN, CLOSE),
    "bullets": lambda n: fill("- ", n, OPEN, CLOSE),
    "angle brackets": lambda n: fill("<", n),
    "opening tags without name": lambda n: fill("<tool_use:", n),
    "opening tags without >": lambda n: fill("<tool_use:email", n),
    "doubled opening tags": lambda n: fill("<tool_use:email>\n", n, "", FIELDS + CLOSE),
    "closing tag prefixes": lambda n: fill("</tool_use:", n, OPEN + FIELDS),
    "closing tag with a long name": lambda n: fill("x", n, OPEN + FIELDS + "</tool_use:"),
    "nested unclosed wrappers": lambda n: fill("<think><tool_call><answer>", n, "", OPEN + FIELDS + CLOSE),
    "unclosed wrappers and blocks": lambda n: fill("<tool_call>\n" + OPEN + FIELDS, n),
    "wrapper closes in unclosed blocks": lambda n: fill(OPEN + "</think>", n),
    "one long line": lambda n: fill("a", n, OPEN + "body: "),
    "field tags repeated": lambda n: fill("<to>", n, OPEN, CLOSE),
    "field tags with colon repeated": lambda n: fill("<to:", n, OPEN, CLOSE),
    "all field tags, never closed": lambda n: fill("<to><subject: <body>< cc :</to", n, OPEN, CLOSE),
    "closing field tags repeated": lambda n: fill("</to:>", n, OPEN + "<subject>s</subject><body>b</body>", CLOSE),
    "value in tag, runs of >": lambda n: fill(">", n, OPEN + "<to: a@b.example", CLOSE),
    "JSON unterminated string": lambda n: fill('\\"', n, OPEN + '{"to": "', CLOSE),
    "JSON single-quoted pairs": lambda n: fill("'to': 'x', ", n, OPEN + "{", CLOSE),
    "JSON nesting": lambda n: fill("[", n, OPEN + '{"to": ', CLOSE),
    "JSON lists": lambda n: fill("'x', ", n, OPEN + "{'to': [", CLOSE),
    "scratchpad tags": lambda n: fill("<SCRATCHPAD_REASONING>", n),
    "scratchpad tags without >": lambda n: fill("<scratchpad_reasoning", n),
    "whitespace": lambda n: fill(" \t", n, OPEN, CLOSE),
    "colons": lambda n: fill(":", n, OPEN, CLOSE),
}
