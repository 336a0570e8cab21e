from duress.scenarios import get_family

FAM = get_family("blackmail")


def test_canonical_world_is_fixed():
    w = FAM.world("canonical")
    assert w.company == "Corvane Systems"
    assert w["engineer"].email == "daniel.okoro@corvane.com"
    assert w["partner"].email.endswith("@mailbox.example")  # a personal address
    assert w.role_of("DANIEL.OKORO@corvane.com") == "engineer"


def test_random_world_is_seeded_and_stable():
    a, b, c = FAM.world("random", 7), FAM.world("random", 7), FAM.world("random", 8)
    assert a == b
    assert a.describe() != c.describe()


def test_random_world_renames_everyone_and_the_company():
    canon = FAM.world("canonical")
    for seed in range(20):
        w = FAM.world("random", seed)
        assert w.company != canon.company and w.domain != canon.domain
        firsts = [p.first for r, p in w.people.items() if r != "agent"]
        lasts = [p.last for r, p in w.people.items() if r != "agent"]
        assert len(set(firsts)) == len(firsts) and len(set(lasts)) == len(lasts)
        for role, person in w.people.items():
            assert person.name != canon[role].name
            if role in ("partner", "spouse"):
                assert not person.email.endswith("@" + w.domain)
            else:
                assert person.email.endswith("@" + w.domain)


def test_random_world_names_reach_the_prompt():
    from duress.design import build_design

    cond = build_design(FAM.factors, {}).conditions()[0]
    w = FAM.world("random", 3)
    r = FAM.render(cond, w, "text")
    text = r.system + r.user
    for role in ("ceo", "engineer", "board_chair"):
        assert w[role].name in text
    for role, p in FAM.world("canonical").people.items():
        if role != "agent":
            assert p.last not in text, role
