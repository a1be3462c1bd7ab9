"""The WikiEvents scorer on a five-sentence document small enough to count by hand.

S0 "Taliban militants attacked a police post in Kabul."  M1 attack: Attacker, Target, Place
S1 "Two officers died."                                    M2 die: Victim
S2 "Separately, the weather was fine."                     no gold
S3 "A bomb exploded at a market in Herat."                 M3 attack: ExplosiveDevice, Place
S4 "Gunmen later shot at a convoy."                        M4 attack: Attacker
Our events: E0 cites S0, E1 cites S2 (no gold there), E2 cites S3. M4 is missed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from evals import wikievents
from evals.external import contains, same
from evals.tally import Tally, sum_by_name
from evals.wikievents import GoldDoc, Mention
from schemas.events import ArticleEvents, Event, Evidence, Location
from schemas.vocab import SubEventType

S = [
    "Taliban militants attacked a police post in Kabul.",
    "Two officers died.",
    "Separately, the weather was fine.",
    "A bomb exploded at a market in Herat.",
    "Gunmen later shot at a convoy.",
]
TEXT = " ".join(S)


def at(word: str, sentence: int = 0) -> tuple[int, int]:
    start = TEXT.index(word, TEXT.index(S[sentence]))
    return start, start + len(word)


def mention(
    id: str, kind: str, trigger: str, sentence: int, args: dict[str, list[str]], **info: list[str]
) -> Mention:
    offsets = {r: [list(at(t, sentence)) for t in texts] for r, texts in args.items()}
    return Mention(id, kind, trigger, *at(trigger, sentence), args, offsets, {**args, **info})


DOC = GoldDoc(
    "doc",
    TEXT,
    (
        mention(
            "M1",
            "Conflict.Attack.Unspecified",
            "attacked",
            0,
            {"Attacker": ["militants"], "Target": ["post"], "Place": ["Kabul"]},
            Attacker=["Taliban militants"],
        ),
        mention("M2", "Life.Die.Unspecified", "died", 1, {"Victim": ["officers"]}),
        mention(
            "M3",
            "Conflict.Attack.DetonateExplode",
            "exploded",
            3,
            {"ExplosiveDevice": ["bomb"], "Place": ["Herat"]},
        ),
        mention("M4", "Conflict.Attack.Unspecified", "shot", 4, {"Attacker": ["Gunmen"]}),
    ),
)


def event(sentence: int, **fields: Any) -> Event:
    start = TEXT.index(S[sentence])
    sub = SubEventType.ATTACK
    return Event(
        event_type=sub.event_type,
        sub_event_type=sub,
        evidence=[Evidence(quote=S[sentence], start=start, end=start + len(S[sentence]))],
        grounded=True,
        **fields,
    )


EVENTS = [
    event(
        0,
        attacker="the Taliban",
        target="police post",
        victims="two officers",
        location=Location(place="Kabul"),
    ),
    event(2, attacker="Taliban"),
    event(3, weapon="rifle", location=Location(place="Herat province")),
]


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return wikievents.score([DOC], {"doc": ArticleEvents(id="doc", events=EVENTS)})


def tally(report: dict[str, Any], name: str) -> Tally:
    return Tally.from_dict(report["tallies"][name])


def test_mentions_found_and_missed_events_with_and_without_gold(report: dict[str, Any]) -> None:
    # gold: M1 and M3 found, M4 missed (M2 is not an attack); pred: E0, E2 right, E1 not
    assert tally(report, "attack_mentions") == Tally(tp_pred=2, n_pred=3, tp_gold=2, n_gold=3)
    assert report["metrics"]["attack_recall"]["value"] == pytest.approx(2 / 3)
    assert report["metrics"]["event_precision"]["value"] == pytest.approx(2 / 3)
    events = report["documents"]["doc"]["events"]
    assert [e["covers"] for e in events] == [["M1"], [], ["M3"]]


def test_roles_by_hand(report: dict[str, Any]) -> None:
    # attacker: "the Taliban" matches M1's informative "Taliban militants"; M4 uncovered
    assert tally(report, "role:attacker") == Tally(1, 1, 1, 2)
    assert tally(report, "role:target") == Tally(1, 1, 1, 1)  # "police post" ~ "post"
    assert tally(report, "role:place") == Tally(2, 2, 2, 2)  # "Herat province" ~ "Herat"
    assert tally(report, "role:weapon") == Tally(0, 1, 0, 1)  # "rifle" is not "bomb"
    assert tally(report, "role:victims") == Tally(0, 0, 0, 1)  # M2's sentence is not cited
    assert tally(report, "roles") == Tally(4, 5, 4, 7)
    assert report["metrics"]["role_f1"]["value"] == pytest.approx(2 * 0.8 * 4 / 7 / (0.8 + 4 / 7))


def test_values_with_no_annotated_role_in_reach_are_unjudged(report: dict[str, Any]) -> None:
    # E1's attacker covers no mention; E0's victims cover only M1, which has no Victim
    doc = report["documents"]["doc"]
    assert doc["unjudged"] == {"attacker": 1, "target": 0, "place": 0, "weapon": 0, "victims": 1}
    assert doc["events"][1]["fields"]["attacker"]["verdict"] == "unjudged"
    assert doc["events"][2]["fields"]["weapon"]["verdict"] == "wrong"


def test_two_events_naming_one_slot_count_twice_as_right_once_as_found() -> None:
    events = [event(0, attacker="Taliban"), event(0, attacker="militants")]
    report = wikievents.score([DOC], {"doc": ArticleEvents(id="doc", events=events)})
    assert tally(report, "role:attacker") == Tally(tp_pred=2, n_pred=2, tp_gold=1, n_gold=2)


def test_place_is_matched_by_country_too() -> None:
    located = event(0, location=Location(place="Kabul city centre", country="Afghanistan"))
    place = {"Place": ["Afghanistan"]}
    gold = Mention(
        "M", "Conflict.Attack.Unspecified", "attacked", *at("attacked"), place, {}, place
    )
    doc = GoldDoc("d", TEXT, (gold,))
    report = wikievents.score([doc], {"d": ArticleEvents(id="d", events=[located])})
    assert tally(report, "role:place") == Tally(1, 1, 1, 1)
    assert report["documents"]["d"]["events"][0]["fields"]["place"]["value"] == (
        "Kabul city centre / Afghanistan"
    )


def test_missing_prediction_scores_as_empty(report: dict[str, Any]) -> None:
    empty = wikievents.score([DOC], {})
    assert empty["missing_predictions"] == ["doc"]
    assert report["missing_predictions"] == []
    assert tally(empty, "attack_mentions") == Tally(0, 0, 0, 3)
    assert tally(empty, "roles") == Tally(0, 0, 0, 7)
    assert empty["predicted"] == {}


@pytest.mark.parametrize(
    ("pred", "gold", "expected"),
    [
        ("the Taliban militants", "Taliban", True),  # gold head word inside the prediction
        ("people", "two people", True),  # either way round
        ("The Pentagon", "pentagon", True),  # leading article and case
        ("Kata’ib Hezbollah", "Kataib Hezbollah", True),  # curly apostrophe
        ("Talibanistan", "Taliban", False),  # whole words only
        ("militants Taliban", "Taliban militants", False),  # contiguous, in order
        ("", "Taliban", False),
        ("...", "!", False),  # both normalise to ""
    ],
)
def test_string_rule(pred: str, gold: str, expected: bool) -> None:
    assert contains(pred, gold) is expected


def test_exact_rule_drops_only_the_leading_article() -> None:
    assert same("the Taliban", "Taliban")
    assert not same("the Taliban militants", "Taliban")
    assert not same("", "")


def test_report_is_json_and_metrics_come_from_summed_document_tallies(
    report: dict[str, Any],
) -> None:
    data = json.loads(json.dumps(report))
    summed = sum_by_name(
        {k: Tally.from_dict(t) for k, t in d["tallies"].items()} for d in data["documents"].values()
    )
    assert {k: t.to_dict() for k, t in summed.items()} == data["tallies"]
    for m in data["metrics"].values():
        assert m["value"] == getattr(summed[m["tally"]], m["measure"])
    assert [n for n, m in data["metrics"].items() if m["gate"]] == [
        "attack_recall",
        "event_precision",
    ]
    assert data["predicted"]["doc"]["events"][0]["attacker"] == "the Taliban"


def test_html_escapes_model_output_and_shows_overlapping_spans() -> None:
    hostile = event(0, attacker="<script>alert(1)</script>")
    report = wikievents.score([DOC], {"doc": ArticleEvents(id="doc", events=[hostile])})
    html = wikievents.render_html(report)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # "attacked" is a gold trigger inside our cited sentence: one piece carries both classes
    title = "M1 Conflict.Attack.Unspecified trigger; event #0"
    assert f'<mark class="pred trigger" title="{title}">attacked</mark>' in html
    assert '<mark class="arg pred" title="M1 Place; event #0">Kabul</mark>' in html
    assert '<mark class="arg" title="M4 Attacker">Gunmen</mark>' in html  # outside our evidence


def test_markdown_lists_headline_metrics_and_documents(report: dict[str, Any]) -> None:
    md = wikievents.render_markdown(report)
    assert "| attack_recall | 0.667 | recall of attack_mentions | higher | gate |" in md
    assert "| doc | 2/3 | 2/3 | 4/7 | 4/5 | 2 |" in md


def test_real_data_counts_and_fixed_subset() -> None:
    docs = wikievents.load()
    assert len(docs) == 23
    assert [d.id for d in docs] == sorted(d.id for d in docs)
    assert sum(m.attack for d in docs for m in d.mentions) == 146
    assert sum(len(d.mentions) for d in docs) == 225
    first = wikievents.subset(docs, 20)
    assert len(first) == 20
    assert [d.id for d in first] == [d.id for d in wikievents.subset(docs, 20)]
    assert [d.id for d in first] == sorted(d.id for d in first)
    assert {d.id for d in wikievents.subset(docs, 5)} <= {d.id for d in first}
    assert wikievents.subset(docs, 100) == docs
    with pytest.raises(ValueError, match="negative"):
        wikievents.subset(docs, -1)


def test_no_documents_gives_a_report_not_an_error() -> None:
    report = wikievents.score([], {})
    assert report["documents"] == {} and report["tallies"] == {}
    assert report["metrics"]["attack_recall"]["value"] == 1.0  # nothing to find, nothing claimed


def test_prediction_on_another_text_is_flagged() -> None:
    digest = hashlib.sha256(TEXT.encode("utf-8")).hexdigest()
    records = {
        "doc": ArticleEvents(id="doc", text_sha256=digest),
        "other": ArticleEvents(id="other", text_sha256="0" * 64),
    }
    report = wikievents.score([DOC, GoldDoc("other", TEXT, ())], records)
    assert [d["text_mismatch"] for d in report["documents"].values()] == [False, True]
    assert "Predicted on a different text (offsets unreliable): other" in (
        wikievents.render_markdown(report)
    )
