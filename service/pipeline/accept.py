"""Stage 6, accept: which events, and which of their attacker, target and victims values,
are kept, by learned weights instead of hand vetoes.

The detect probability alone hardly tells a reported attack from a clash, a riot or a
retold one (on MUC-4 train, 0.89 for events of reports with no incident, 0.90 for
right ones), and the model's probability of the phrase it chose hardly tells a right
attacker from a bystander. What else the pipeline knows is combined by logistic
regressions fitted on the MUC-4 train split's answers (`python -m evals fit-accept`,
`evals/accept.py`): for an event, how many sentences tell it, where in the article,
whether it is the story's own, which fields its sentences state, how sure the model
was; for a role value, the model's probability, its length, and its grammatical role
and entity type in the parse. The weights and thresholds ship in `accept.json`, with the
model whose answers they were fitted on: probabilities are comparable only within one
model, so another model's events are all kept.

It is off by default (the `accept` setting): fitted on MUC-4, it pays there and costs
on other news (the README gives the figures), since what makes a MUC-4 template filler
right (an exact string, a human Victim) is not what makes a news event's value right.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from schemas.events import Event
from schemas.vocab import Certainty, Prominence, SubEventType
from service.pipeline.parse import head_of

WEIGHTS = Path(__file__).with_name("accept.json")
EVENT_FEATURES = (
    "p_attack",
    "sentences",
    "position",
    "main",
    "attacker",
    "target",
    "victims",
    "weapon",
    "place",
    "date",
    "deaths",
    "injured",
    "p_fields",
    "confirmed",
    "no_means",
)
ROLES = ("attacker", "target", "victims")
ROLE_FEATURES = (
    "p_chosen",
    "words",
    "subject",
    "passive_subject",
    "object",
    "prep_object",
    "modifier",
    "person",
    "organisation",
    "place_name",
    "group",
    "first_sentence",
)
_SUBJECT = frozenset({"nsubj", "agent", "csubj"})
_MODIFIER = frozenset({"compound", "amod", "poss", "appos", "nmod"})


def event_features(event: Event, article_chars: int) -> list[float]:
    """The event as its learned weight reads it, in `EVENT_FEATURES` order."""
    starts = [ev.start for ev in event.evidence if ev.start is not None]
    chosen = [s.confidence for n, s in event.spans.items() if n in ROLES and s.confidence]
    return [
        event.confidence if event.confidence is not None else 1.0,
        float(len(event.evidence)),
        min(starts) / max(article_chars, 1) if starts else 1.0,
        float(event.prominence is Prominence.MAIN),
        float(event.attacker is not None),
        float(event.target is not None),
        float(event.victims is not None),
        float(event.weapon is not None),
        float(event.location.place is not None),
        float(event.date.text is not None),
        float(event.deaths.best is not None),
        float(event.injured is not None),
        sum(chosen) / len(chosen) if chosen else 0.0,
        float(event.certainty is Certainty.CONFIRMED),
        float(event.sub_event_type is SubEventType.ATTACK),
    ]


def role_features(event: Event, field: str, article: str) -> list[float] | None:
    """A role value as its learned weight reads it (`ROLE_FEATURES` order), or None when
    the field is empty: its words' head in the parse of its sentence, and its entity."""
    span = event.spans.get(field)  # type: ignore[call-overload]
    if span is None:
        return None
    sentences = [(e.start, e.end) for e in event.evidence if e.start is not None and e.end]
    home = next(((s, e) for s, e in sentences if s <= span.start < e), None)
    dep, entity = "", ""
    if home is not None:
        sentence = article[home[0] : home[1]]
        head = head_of(sentence, span.start - home[0], span.end - home[0])
        if head is not None:
            dep, entity = head.dep_, head.ent_type_
    return [
        span.confidence if span.confidence is not None else 1.0,
        float(len(article[span.start : span.end].split())),
        float(dep in _SUBJECT),
        float(dep == "nsubjpass"),
        float(dep in ("dobj", "attr", "oprd")),
        float(dep == "pobj"),
        float(dep in _MODIFIER),
        float(entity == "PERSON"),
        float(entity == "ORG"),
        float(entity in ("GPE", "LOC", "FAC")),
        float(entity == "NORP"),
        float(home is not None and home == sentences[0]),
    ]


@dataclass(frozen=True)
class Logistic:
    """One fitted logistic regression over standardised features, and its threshold."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float

    def probability_of(self, x: list[float]) -> float:
        z = self.intercept + sum(
            c * (v - m) / s for c, v, m, s in zip(self.coef, x, self.mean, self.scale, strict=True)
        )
        return 1 / (1 + math.exp(-max(min(z, 50.0), -50.0)))

    def keeps(self, x: list[float]) -> bool:
        return self.probability_of(x) >= self.threshold


@dataclass(frozen=True)
class Acceptor:
    """The event weight and one weight per role, fitted on one model's answers."""

    model: str
    event: Logistic
    roles: dict[str, Logistic]

    def keeps(self, event: Event, article: str) -> bool:
        """Whether the event is a reported attack of the kind the gold records."""
        return self.event.keeps(event_features(event, len(article)))

    def kept_roles(self, event: Event, article: str) -> Event:
        """The event with each attacker, target or victims value its weight doubts nulled."""
        doubted = [
            field
            for field, weight in self.roles.items()
            if (x := role_features(event, field, article)) is not None and not weight.keeps(x)
        ]
        if not doubted:
            return event
        spans = {k: v for k, v in event.spans.items() if k not in doubted}
        return event.model_copy(update={**dict.fromkeys(doubted), "spans": spans})


def from_dict(data: dict[str, Any]) -> Acceptor:
    """An acceptor from its JSON form; the feature names must be today's."""
    if tuple(data["event"]["features"]) != EVENT_FEATURES or any(
        tuple(r["features"]) != ROLE_FEATURES for r in data["roles"].values()
    ):
        raise ValueError(f"{WEIGHTS.name} was fitted on other features: refit it")

    def logistic(d: dict[str, Any]) -> Logistic:
        return Logistic(
            tuple(d["mean"]), tuple(d["scale"]), tuple(d["coef"]), d["intercept"], d["threshold"]
        )

    roles = {field: logistic(d) for field, d in data["roles"].items()}
    return Acceptor(str(data["model"]), logistic(data["event"]), roles)


def to_dict(acceptor: Acceptor) -> dict[str, Any]:
    """The JSON form `from_dict` reads."""

    def logistic(w: Logistic, names: tuple[str, ...]) -> dict[str, Any]:
        return {
            "features": list(names),
            "mean": list(w.mean),
            "scale": list(w.scale),
            "coef": list(w.coef),
            "intercept": w.intercept,
            "threshold": w.threshold,
        }

    return {
        "model": acceptor.model,
        "event": logistic(acceptor.event, EVENT_FEATURES),
        "roles": {f: logistic(w, ROLE_FEATURES) for f, w in acceptor.roles.items()},
    }


@cache
def acceptor_for(model: str) -> Acceptor | None:
    """The shipped acceptor when it was fitted on `model`'s answers, else None."""
    fitted = from_dict(json.loads(WEIGHTS.read_text(encoding="utf-8")))
    return fitted if fitted.model == model else None
