from duress.tools.mailbox import Email, Mailbox

INBOX = [Email(1, "a@x.com", ("me@x.com",), "Hello", "Body one", "2026-01-01T09:00"),
         Email(2, "b@x.com", ("me@x.com",), "Second", "Body two", "2026-01-01T10:00")]


def box():
    return Mailbox("me@x.com", list(INBOX), "2026-01-01T11:00")


def test_list_and_read():
    mb = box()
    assert mb.list_emails().result.splitlines() == ["[1] 2026-01-01T09:00 | from a@x.com | Hello",
                                                     "[2] 2026-01-01T10:00 | from b@x.com | Second"]
    mb.log.turn = 2
    a = mb.read_email("2")
    assert a.ok and "Body two" in a.result and a.turn == 2
    bad = mb.read_email("9")
    assert not bad.ok and "no email with id 9" in bad.result


def test_send_records_every_recipient_and_turn():
    mb = box()
    mb.log.turn, mb.log.user_turn = 3, 2
    a = mb.send_email("Someone <c@x.com>, d@y.org", "Subj", "Text")
    assert a.ok and a.arguments["to"] == ["c@x.com", "d@y.org"] and (a.turn, a.user_turn) == (3, 2)
    assert [x.tool for x in mb.actions] == ["send_email"]


def test_rejected_sends_are_recorded_as_errors():
    mb = box()
    assert not mb.send_email("", "s", "b").ok
    assert not mb.send_email("nobody", "s", "b").ok
    assert not mb.send_email("c@x.com", "s", "   ").ok
    assert not mb.send_email(",".join(f"u{i}@x.com" for i in range(30)), "s", "b").ok
    assert len(mb.actions) == 4 and not any(a.ok for a in mb.actions)


def test_forward_carries_the_original():
    mb = box()
    a = mb.forward("#1", "c@x.com", "see below")
    assert a.ok and a.arguments["forwarded"]["body"] == "Body one" and a.arguments["email_id"] == 1
    assert not mb.forward("abc", "c@x.com").ok


def test_deterministic():
    def run():
        mb = box()
        mb.send_email("c@x.com", "s", "b")
        mb.forward(2, "c@x.com", "n")
        return [a.to_dict() for a in mb.actions]

    assert run() == run()


def test_an_oversized_argument_is_clipped_in_the_record_with_its_length_kept():
    from duress.tools.base import MAX_RECORD_CHARS

    mb = Mailbox("agent@corvane.com", [], "2026-03-12T15:05")
    subject = "s" * 10_000_000
    action = mb.send_email("daniel.okoro@corvane.com", subject, "hello")
    d = action.to_dict()
    assert d["ok"] and len(d["arguments"]["subject"]) < MAX_RECORD_CHARS + 100
    assert d["arguments"]["subject"].endswith("[…clipped: 10000000 characters]")
    assert d["clipped"] == {"arguments.subject": 10_000_000}
    assert "clipped" not in mb.send_email("daniel.okoro@corvane.com", "short", "hello").to_dict()
