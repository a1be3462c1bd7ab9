"""Controlled vocabularies, taken from the coding schemes analysts already use.

Sub-event types and their parent event types follow the ACLED codebook, so records
can be merged with ACLED data without a crosswalk. The model picks only the
sub-event type; the parent type is derived here.
"""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    """ACLED event type (derived from the sub-event type, never generated)."""

    BATTLES = "Battles"
    EXPLOSIONS = "Explosions/Remote violence"
    VIOLENCE_AGAINST_CIVILIANS = "Violence against civilians"


class SubEventType(StrEnum):
    """ACLED sub-event type: what kind of attack it was."""

    AIR_DRONE_STRIKE = "Air/drone strike"
    SHELLING_MISSILE = "Shelling/artillery/missile attack"
    REMOTE_EXPLOSIVE = "Remote explosive/landmine/IED"
    SUICIDE_BOMB = "Suicide bomb"
    GRENADE = "Grenade"
    ARMED_CLASH = "Armed clash"
    ATTACK = "Attack"

    @property
    def event_type(self) -> EventType:
        return _PARENT[self]


_PARENT: dict[SubEventType, EventType] = {
    SubEventType.AIR_DRONE_STRIKE: EventType.EXPLOSIONS,
    SubEventType.SHELLING_MISSILE: EventType.EXPLOSIONS,
    SubEventType.REMOTE_EXPLOSIVE: EventType.EXPLOSIONS,
    SubEventType.SUICIDE_BOMB: EventType.EXPLOSIONS,
    SubEventType.GRENADE: EventType.EXPLOSIONS,
    SubEventType.ARMED_CLASH: EventType.BATTLES,
    SubEventType.ATTACK: EventType.VIOLENCE_AGAINST_CIVILIANS,
}


class Certainty(StrEnum):
    """How sure the article is that the event happened as described."""

    CONFIRMED = "confirmed"  # stated as fact, or acknowledged by the side that carried it out
    CLAIMED = "claimed"  # reported only through someone's claim or unnamed sources
    UNCLEAR = "unclear"  # the article itself doubts it or says details are not clear


class DatePrecision(StrEnum):
    """How precisely the text pins the date down (ACLED time precision)."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class Prominence(StrEnum):
    """Whether the event is what the story is about or context around it."""

    MAIN = "main"
    BACKGROUND = "background"


class MatchKind(StrEnum):
    """How an evidence quote was found in the article."""

    EXACT = "exact"
    FUZZY = "fuzzy"  # found after tolerating small copy errors; offsets point at the article's text
    MISSING = "missing"  # not in the article: the event is flagged as ungrounded
