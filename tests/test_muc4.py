"""The MUC-4 scorer on hand-made reports small enough to count by hand.

"attack": gold has an attack and a bombing (in scope) and a kidnapping (out of scope).
In scope, after merging: PerpInd {urng guerrillas}, PerpOrg {guatemalan national
revolutionary unity, urng}, Target {santo tomas farm, farm}, Weapon {rifles}: 4 entities.
The kidnapping adds Victim {jorge perez}: 5 entities over all incidents.
Our fillers: attacker URNG, guerrillas; target Santo Tomas farm, the farm; weapon automatic
rifles; victims Jorge Perez.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from evals import muc4
from evals.muc4 import GoldDoc, Template
from evals.tally import Tally
from schemas.events import ArticleEvents, Event, Evidence
from schemas.vocab import SubEventType

TEXT = (
    "urng guerrillas attacked the santo tomas farm with rifles. the guatemalan national "
    "revolutionary unity (urng) also bombed the farm. they kidnapped jorge perez."
)
QUIET = "the president spoke about the economy."


def m(text: str, nth: int = 0) -> tuple[str, int]:
    """The nth occurrence of `text` as a gold mention."""
    offset = -1
    for _ in range(nth + 1):
        offset = TEXT.index(text, offset + 1)
    return text, offset


def template(kind: str, **roles: list[list[tuple[str, int]]]) -> Template:
    return Template(kind, {r: tuple(tuple(e) for e in roles.get(r, [])) for r in muc4.ROLES})


URNG = [m("guatemalan national revolutionary unity"), m("urng", 1)]
ATTACK = GoldDoc(
    "attack",
    TEXT,
    (
        template(
            "attack",
            PerpInd=[[m("urng guerrillas")]],
            PerpOrg=[URNG],
            Target=[[m("santo tomas farm"), m("farm", 1)]],
            Weapon=[[m("rifles")]],
        ),
        template("bombing", PerpOrg=[[m("urng", 1)]], Target=[[m("farm", 1)]]),
        template("kidnapping", PerpOrg=[[m("urng", 1)]], Victim=[[m("jorge perez")]]),
    ),
)
QUIET_DOCS = [GoldDoc("quiet1", QUIET, ()), GoldDoc("quiet2", QUIET, ())]
KIDNAP_ONLY = GoldDoc("kidnap", TEXT, (template("kidnapping", Victim=[[m("jorge perez")]]),))


def event(text: str, **fields: str) -> Event:
    sub = SubEventType.ATTACK
    return Event(
        event_type=sub.event_type,
        sub_event_type=sub,
        evidence=[Evidence(quote=text[:20], start=0, end=20)],
        grounded=True,
        **fields,
    )


EVENTS = [
    event(TEXT, attacker="URNG", target="Santo Tomas farm", weapon="automatic rifles",
          victims="Jorge Perez"),
    event(TEXT, attacker="guerrillas", target="the farm"),
    event(TEXT, attacker="urng"),  # the same filler again: deduplicated
]  # fmt: skip
PREDICTED = {
    "attack": ArticleEvents(id="attack", events=EVENTS),
    "quiet1": ArticleEvents(id="quiet1", events=[event(QUIET, attacker="FMLN")]),
    "kidnap": ArticleEvents(id="kidnap", events=[event(TEXT, victims="jorge perez")]),
}  # quiet2 has no prediction


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return muc4.score([ATTACK, KIDNAP_ONLY, *QUIET_DOCS], PREDICTED)


def doc_tally(report: dict[str, Any], doc: str, name: str) -> Tally:
    return Tally.from_dict(report["documents"][doc]["tallies"][name])


def test_exact_roles_by_hand(report: dict[str, Any]) -> None:
    t = {r: doc_tally(report, "attack", f"role:{r}") for r in muc4.ROLES}
    assert t["PerpOrg"] == Tally(1, 1, 1, 1)  # "URNG" matches the entity's second mention
    assert t["PerpInd"] == Tally(0, 1, 0, 1)  # "guerrillas" is not "urng guerrillas"
    assert t["Target"] == Tally(2, 2, 1, 1)  # two fillers, one entity found once
    assert t["Weapon"] == Tally(0, 1, 0, 1)  # "automatic rifles" is not "rifles"
    assert t["Victim"] == Tally(0, 0, 0, 0)  # "Jorge Perez" is a kidnapping victim: excluded
    assert doc_tally(report, "attack", "roles") == Tally(3, 5, 2, 4)
    assert report["documents"]["attack"]["excluded"] == 1


def test_head_matching_is_whole_word_containment(report: dict[str, Any]) -> None:
    assert doc_tally(report, "attack", "role_head:PerpInd") == Tally(1, 1, 1, 1)
    assert doc_tally(report, "attack", "role_head:Weapon") == Tally(1, 1, 1, 1)
    assert doc_tally(report, "attack", "roles_head") == Tally(5, 5, 4, 4)


def test_attacker_role_is_decided_by_the_strictest_match() -> None:
    gold = GoldDoc(
        "d",
        "fmln guerrillas of the fmln",
        (template("attack", PerpInd=[[("fmln guerrillas", 0)]], PerpOrg=[[("fmln", 23)]]),),
    )
    events = [event(gold.text, attacker="FMLN guerrillas"), event(gold.text, attacker="the FMLN")]
    report = muc4.score([gold], {"d": ArticleEvents(id="d", events=events)})
    fillers = report["documents"]["d"]["fillers"]
    assert [f["head"] for f in fillers] == [["PerpInd", "right"], ["PerpOrg", "right"]]
    assert doc_tally(report, "d", "roles_head") == Tally(2, 2, 2, 2)


def test_a_target_naming_a_victim_is_their_victim() -> None:
    """MUC-4's Victim is the human target: our target "the minister" fills it, once even
    when the victims field names him too; a target naming neither stays a wrong Target."""
    text = "rebels shot the minister near the bridge."
    gold = GoldDoc("d", text, (template("attack", Victim=[[("the minister", 12)]]),))
    events = [
        event(text, target="the minister", victims="The minister"),
        event(text, target="the bridge"),
    ]
    report = muc4.score([gold], {"d": ArticleEvents(id="d", events=events)})
    fillers = report["documents"]["d"]["fillers"]
    assert [f["exact"] for f in fillers] == [
        ["Victim", "right"],
        ["Victim", "right"],
        ["Target", "wrong"],
    ]
    assert doc_tally(report, "d", "role:Victim") == Tally(1, 1, 1, 1)
    assert doc_tally(report, "d", "role:Target") == Tally(0, 1, 0, 0)


def test_all_incidents_counts_the_kidnapping(report: dict[str, Any]) -> None:
    assert doc_tally(report, "attack", "all_incidents:role:Victim") == Tally(1, 1, 1, 1)
    assert doc_tally(report, "attack", "all_incidents:roles") == Tally(4, 6, 3, 5)


def test_fillers_record_role_and_verdict(report: dict[str, Any]) -> None:
    fillers = {f["value"]: f for f in report["documents"]["attack"]["fillers"]}
    assert list(fillers) == [
        "URNG",
        "Santo Tomas farm",
        "Jorge Perez",
        "automatic rifles",
        "guerrillas",
        "the farm",
    ]
    assert fillers["URNG"]["exact"] == ["PerpOrg", "right"]
    assert fillers["guerrillas"]["exact"] == ["PerpInd", "wrong"]
    assert fillers["guerrillas"]["head"] == ["PerpInd", "right"]
    assert fillers["Jorge Perez"]["exact"] == ["Victim", "excluded"]


def test_invented_events_on_reports_without_incident(report: dict[str, Any]) -> None:
    assert Tally.from_dict(report["tallies"]["false_events"]) == Tally(1, 2, 0, 0)
    assert report["metrics"]["false_event_rate"]["value"] == 0.5
    assert report["metrics"]["false_event_rate"]["better"] == "lower"
    # the invented attacker is also a wrong filler
    assert doc_tally(report, "quiet1", "role:PerpInd") == Tally(0, 1, 0, 0)
    # an event on a kidnapping-only report is counted apart
    assert doc_tally(report, "kidnap", "false_events") == Tally()
    assert doc_tally(report, "kidnap", "false_events:out_of_scope_only") == Tally(1, 1, 0, 0)
    assert doc_tally(report, "kidnap", "roles") == Tally()  # its only filler is excluded
    assert report["documents"]["kidnap"]["excluded"] == 1


def test_missing_prediction_and_report_shape(report: dict[str, Any]) -> None:
    assert report["missing_predictions"] == ["quiet2"]
    assert doc_tally(report, "quiet2", "false_events") == Tally(0, 1, 0, 0)
    data = json.loads(json.dumps(report))
    assert data["set"] == "muc4"
    assert sorted(data["predicted"]) == ["attack", "kidnap", "quiet1"]
    assert [n for n, x in data["metrics"].items() if x["gate"]] == ["role_f1", "false_event_rate"]
    roles = Tally.from_dict(data["tallies"]["roles"])
    assert roles == Tally(3, 6, 2, 4)  # + the invented FMLN filler
    assert data["metrics"]["role_f1"]["value"] == roles.f1


def test_entities_sharing_a_string_merge_transitively() -> None:
    a, b, c = [("x y", 0), ("x", 5)], [("x", 9), ("z", 12)], [("z", 20)]
    assert muc4.merge([a, [("w", 30)], b, c]) == [(("w", 30),), (*a, *b, *c)]


def test_html_escapes_and_marks_scope() -> None:
    hostile = {"attack": ArticleEvents(id="attack", events=[event(TEXT, attacker="<b>x</b>")])}
    html = muc4.render_html(muc4.score([ATTACK], hostile))
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert '<mark class="oos" title="Victim">jorge perez</mark>' in html
    # our evidence (the first 20 characters) overlaps the gold PerpInd mention
    assert '<mark class="gold pred" title="PerpInd; event #0">urng guerrillas</mark>' in html


def test_markdown_rows(report: dict[str, Any]) -> None:
    md = muc4.render_markdown(report)
    assert "| role_f1 | 0.500 | f1 of roles | higher | gate |" in md
    assert "| attack | in_scope | 3 | 2/4 | 3/5 | 1 |" in md
    assert "No prediction for: quiet2" in md


def test_real_data_counts_and_fixed_stratified_subset() -> None:
    docs = muc4.load()
    assert len(docs) == 200
    assert sum(not d.templates for d in docs) == 84
    kinds = Counter(d.kind for d in docs)
    assert kinds == {"in_scope": 103, "no_incident": 84, "out_of_scope_only": 13}
    empty = muc4.score(docs, {})
    assert empty["tallies"]["roles"]["n_gold"] == 392  # 449 in-scope entities before merging
    assert empty["tallies"]["all_incidents:roles"]["n_gold"] == 468
    first = muc4.subset(docs, 20)
    assert [d.id for d in first] == [d.id for d in muc4.subset(docs, 20)]
    assert [d.id for d in first] == sorted(d.id for d in first)
    assert len(first) == 20 and sum(not d.templates for d in first) == 8
    assert sum(not d.templates for d in muc4.subset(docs, 10)) == 4
    assert muc4.subset(docs, 500) == docs
    with pytest.raises(ValueError, match="negative"):
        muc4.subset(docs, -1)
