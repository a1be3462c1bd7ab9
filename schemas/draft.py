"""What the model generates: the smallest JSON that still carries every judgement.

Output tokens are the cost (about 11 tokens/s on a 2-core machine), so the model
writes short keys and only what needs reading comprehension. Everything that code
can do reliably (event type from sub-type, evidence offsets, calendar dates,
casualty ranges) is derived afterwards in `service.core.records`.

The field descriptions below are shown to the model in the prompt: they are
written for it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas.vocab import Certainty, SubEventType

MAX_EVENTS = 8
MAX_HEADLINES = 3
# Bounds on every string, so a model that starts repeating itself inside a value is
# stopped by the grammar (llama.cpp, vLLM) after a sentence, not at max_tokens.
MAX_QUOTE = 1000
MAX_VALUE = 200

Quote = Annotated[str, StringConstraints(max_length=MAX_QUOTE)]
Value = Annotated[str, StringConstraints(max_length=MAX_VALUE)]


class EventDraft(BaseModel):
    """One attack, strike, bombing or killing that the article reports as having happened."""

    model_config = ConfigDict(extra="forbid")

    quote: Quote = Field(
        description="The one sentence of the article that best reports this event, copied "
        "exactly, character for character. Never a photo caption."
    )
    type: SubEventType = Field(
        description="Kind of attack: 'Air/drone strike' (aircraft or drone), "
        "'Shelling/artillery/missile attack' (rockets, missiles, shells fired from the ground), "
        "'Remote explosive/landmine/IED', 'Suicide bomb', 'Grenade', "
        "'Armed clash' (two armed sides fight), 'Attack' (armed violence against civilians)."
    )
    attacker: Value | None = Field(
        description="Who carried out the attack, the side that fired (e.g. 'US forces'). "
        "null if the article does not say."
    )
    target: Value | None = Field(
        description="Who or what was attacked, the side that was hit (e.g. 'Kataib Hezbollah'). "
        "Never the same as the attacker."
    )
    place: Value | None = Field(
        description="The most specific place where it happened (town, base, district), as named."
    )
    region: Value | None = Field(
        default=None, description="Province or state, only if the article names it."
    )
    country: Value | None = Field(description="Country where it happened.")
    when: Value | None = Field(
        description="The article's own words that date the event, as written "
        "(e.g. 'on Tuesday', 'Wednesday evening', 'last week', 'in February'). null if none."
    )
    weapon: Value | None = Field(
        description="Weapon or means used (e.g. 'drone', 'rockets'), if stated."
    )
    killed: int | None = Field(
        ge=0,
        description="People killed in this event as the article states the number. "
        "null when not stated; 0 only when the article says nobody died.",
    )
    injured: int | None = Field(
        ge=0,
        description="People injured, as stated. null when not stated; 0 only when the article "
        "says nobody was hurt.",
    )
    victims: Value | None = Field(
        default=None, description="Who was killed or hurt, as described (e.g. 'a commander')."
    )
    source: Value | None = Field(
        description="Who the article says reports the event, as written "
        "(e.g. 'a US official told Reuters', 'US Central Command')."
    )
    certainty: Certainty = Field(
        description="'confirmed' if stated as fact or acknowledged by the attacker; "
        "'claimed' if only someone's claim; 'unclear' if the article doubts it."
    )
    main: bool = Field(
        description="true if this event is what the story is about; false if it is an "
        "earlier event mentioned as background."
    )


class ArticleDraft(BaseModel):
    """Everything the model reads off one article (or one chunk of a long one)."""

    model_config = ConfigDict(extra="forbid")

    headlines: list[Quote] = Field(
        max_length=MAX_HEADLINES,
        description="The headline of each distinct story on the page, copied exactly "
        "(usually one).",
    )
    events: list[EventDraft] = Field(
        max_length=MAX_EVENTS,
        description="Each distinct attack once, even if the article mentions it several "
        "times. Not counts or summaries such as 'more than 150 attacks since October'. "
        "Empty if the article reports no attack.",
    )
