"""Stage 6, accept: whether an event is kept, by a learned weight instead of hand vetoes.

The detect probability alone hardly tells a reported attack from a clash, a riot or a
retold one (on MUC-4 train, 0.89 for events of reports with no incident, 0.90 for
right ones). What else the pipeline knows of an event (how many sentences tell it,
where in the article, whether it is the story's own, which fields its sentences
state, how sure the model was of them) is combined by a logistic regression fitted on
the MUC-4 train split's answers (`python -m evals fit-accept`, `evals/accept.py`). Its
weights and threshold ship in `accept.json`, with the model whose answers they were
fitted on: probabilities are comparable only within one model, so another model's
events are all kept.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from schemas.events import Event
from schemas.vocab import Certainty, Prominence, SubEventType

WEIGHTS = Path(__file__).with_name("accept.json")
FEATURES = (
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


def features(event: Event, article_chars: int) -> list[float]:
    """The event as the learned weight reads it, in `FEATURES` order."""
    starts = [ev.start for ev in event.evidence if ev.start is not None]
    chosen = [
        s.confidence
        for name, s in event.spans.items()
        if name in ("attacker", "target", "victims") and s.confidence is not None
    ]
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


@dataclass(frozen=True)
class Acceptor:
    """A fitted logistic regression over standardised features, and its threshold."""

    model: str
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float

    def probability(self, event: Event, article_chars: int) -> float:
        """P(the event is a reported attack of the kind the gold records)."""
        return self.probability_of(features(event, article_chars))

    def probability_of(self, x: list[float]) -> float:
        """The same, from the event's features."""
        z = self.intercept + sum(
            c * (v - m) / s for c, v, m, s in zip(self.coef, x, self.mean, self.scale, strict=True)
        )
        return 1 / (1 + math.exp(-max(min(z, 50.0), -50.0)))

    def keeps(self, event: Event, article_chars: int) -> bool:
        return self.probability(event, article_chars) >= self.threshold


def from_dict(data: dict[str, object]) -> Acceptor:
    """An acceptor from its JSON form; the feature names must be today's."""
    if tuple(data["features"]) != FEATURES:  # type: ignore[arg-type]
        raise ValueError(f"{WEIGHTS.name} was fitted on other features: refit it")
    return Acceptor(
        model=str(data["model"]),
        mean=tuple(data["mean"]),  # type: ignore[arg-type]
        scale=tuple(data["scale"]),  # type: ignore[arg-type]
        coef=tuple(data["coef"]),  # type: ignore[arg-type]
        intercept=float(data["intercept"]),  # type: ignore[arg-type]
        threshold=float(data["threshold"]),  # type: ignore[arg-type]
    )


@cache
def acceptor_for(model: str) -> Acceptor | None:
    """The shipped acceptor when it was fitted on `model`'s answers, else None."""
    fitted = from_dict(json.loads(WEIGHTS.read_text(encoding="utf-8")))
    return fitted if fitted.model == model else None
