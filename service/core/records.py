"""From the model's draft to checked records: everything code does better than a model.

Evidence offsets, calendar dates, ACLED parent types and UCDP death ranges are
derived here, deterministically, from the draft and the article text.
"""

from __future__ import annotations

import datetime as dt
import re

from schemas.draft import EventDraft
from schemas.events import Deaths, Event, Location
from schemas.vocab import MatchKind, Prominence
from service.core.dates import AFTERWARDS, resolve_date
from service.core.grounding import locate
from service.core.names import normalise

_NOTHING = {"", "null", "none", "n a", "unknown", "not stated", "not specified", "unspecified"}
_IDENTITY = 4  # of an event's facts, the first four identify it; the counts only tell apart
_TOLD = (0, 3, 4, 5)  # of its facts, attacker, date and counts: retold in the same words
_OPEN_ENDED = re.compile(r"\b(at least|more than|over|upwards of|no fewer than)\s+\w+", re.I)


def build_event(draft: EventDraft, text: str, reference: dt.date | None) -> Event:
    evidence = locate(draft.quote, text)
    return Event(
        event_type=draft.type.event_type,
        sub_event_type=draft.type,
        attacker=_blank(draft.attacker),
        target=_blank(draft.target),
        weapon=_blank(draft.weapon),
        victims=_blank(draft.victims),
        location=Location(
            place=_blank(draft.place), admin1=_blank(draft.region), country=_blank(draft.country)
        ),
        date=resolve_date(_blank(draft.when), reference),
        deaths=deaths(draft.killed, evidence.quote),
        injured=draft.injured,
        reported_by=_blank(draft.source),
        certainty=draft.certainty,
        prominence=Prominence.MAIN if draft.main else Prominence.BACKGROUND,
        evidence=[evidence],
        grounded=evidence.match is not MatchKind.MISSING,
    )


def deaths(killed: int | None, quote: str) -> Deaths:
    """UCDP best/low/high from one stated figure: open-ended wording leaves `high` unknown."""
    if killed is None:
        return Deaths()
    high = None if _OPEN_ENDED.search(quote) else killed
    return Deaths(best=killed, low=killed, high=high)


def merge_duplicates(events: list[Event]) -> list[Event]:
    """One event per attack: later mentions of it only add evidence and fill gaps.

    Events merge only on positive evidence that they are one attack (`same_event`);
    two attacks whose details the article leaves out stay two.
    """
    kept: list[Event] = []
    for event in events:
        for i, earlier in enumerate(kept):
            if same_event(earlier, event):
                kept[i] = merged(earlier, event)
                break
        else:
            kept.append(event)
    return kept


def same_event(a: Event, b: Event) -> bool:
    """Same kind, nothing stated in both that disagrees, and positive evidence of identity.

    The evidence is one shared evidence sentence, or at least two of attacker, target,
    place and date stated in both and agreeing. Fields that are null in both prove
    nothing; a death toll or injury count stated differently keeps events apart.
    """
    if a.sub_event_type is not b.sub_event_type:
        return False
    pairs = list(zip(_facts(a), _facts(b), strict=True))
    if any(_clash(x, y) for x, y in pairs):
        return False
    stated = sum(x is not None and y is not None for x, y in pairs[:_IDENTITY])
    return _share_evidence(a, b) or stated >= 2


def continues(a: Event, b: Event, told: bool = False) -> bool:
    """Whether `b`, read from the sentences right after `a`'s, goes on telling `a`.

    The pipeline reads violent sentences in runs of three, so one telling can span two
    runs, and the second names the target and place in other words ("Iran-backed
    militant group", "three facilities used by Kataib Hezbollah"). It goes on unless the
    kind, the country, or an attacker, date or count stated in both disagrees, or `b`
    is told as another day ("The next day, ...").

    `told`: `b`'s sentences name their attack as one already told ("the strike
    occurred..."). Such a run rarely names the attacker, and a small model then picks
    whoever is named, often the side that was hit; so its attacker is not compared,
    unless the run dates its attack ("The next day, ...": a new one).
    """
    if a.sub_event_type is not b.sub_event_type or AFTERWARDS.search(b.date.text or ""):
        return False
    if a.location.country and b.location.country and a.location.country != b.location.country:
        return False
    fa, fb = _facts(a), _facts(b)
    retold = told and b.date.text is None  # a run that dates its attack tells a new one
    return not any(_clash(fa[i], fb[i]) for i in _TOLD if not (retold and i == 0))


def _facts(event: Event) -> tuple[str | None, ...]:
    date = event.date.value.isoformat() if event.date.value else event.date.text
    counts = (event.deaths.best, event.injured)
    identity = (event.attacker, event.target, event.location.place, date)
    return tuple(normalise(v) or None if v else None for v in identity) + tuple(
        None if c is None else str(c) for c in counts
    )


# What any armed side may be called: naming no side in particular, it tells none apart.
_ANYONE = re.compile(
    r"forces?|military|troops|army|government|officials?|militants?|group|militia|fighters|"
    r"soldiers|personnel"
)


def _clash(x: str | None, y: str | None) -> bool:
    """Stated in both, and disagreeing."""
    return x is not None and y is not None and not _agree(x, y)


def named_within(part: str, whole: str) -> bool:
    """Whether `whole` names the side `part` names, in as many words or more ('US forces'
    in 'three US soldiers'; words any armed side is called by count for nothing). The
    alias table belongs to the evals and to linking, not to what one record says."""
    return _within(normalise(part), normalise(whole))


def _agree(x: str, y: str) -> bool:
    """Equal, or one names the other with more words ('US' and 'US forces'). Words any
    armed side may be called count for nothing: 'U.S. military' and 'U.S. forces' agree."""
    return _within(x, y) or _within(y, x)


def _within(part: str, whole: str) -> bool:
    """`named_within` of two normalised names."""
    return _naming(part) <= _naming(whole)


# A count says how many of a side, not which: "two militants" names the militants.
_COUNT = re.compile(r"\d[\d,]*|one|two|three|four|five|six|seven|eight|nine|ten|dozens|several")


def _naming(value: str) -> set[str]:
    words = {w for w in value.split() if not _COUNT.fullmatch(w)} or set(value.split())
    return {w for w in words if not _ANYONE.fullmatch(w)} or words


def _share_evidence(a: Event, b: Event) -> bool:
    """Two located quotes that overlap, or the same quote: the same sentence of the text."""
    for x in a.evidence:
        for y in b.evidence:
            if x.start is None or x.end is None or y.start is None or y.end is None:
                if normalise(x.quote) == normalise(y.quote):
                    return True
            elif x.start < y.end and y.start < x.end:
                return True
    return False


def merged(first: Event, later: Event) -> Event:
    """`first` with `later`'s new evidence, and its values where `first` has none."""
    spans = {(e.start, e.quote) for e in first.evidence}
    evidence = first.evidence + [e for e in later.evidence if (e.start, e.quote) not in spans]
    update: dict[str, object] = {
        "evidence": evidence,
        "grounded": any(e.match is not MatchKind.MISSING for e in evidence),
    }
    for name in ("attacker", "target", "weapon", "victims", "injured", "reported_by"):
        if getattr(first, name) is None:
            update[name] = getattr(later, name)
    if first.deaths.best is None:
        update["deaths"] = later.deaths
    scores = [e.confidence for e in (first, later) if e.confidence is not None]
    update["confidence"] = max(scores, default=None)
    # a resolved date beats an unresolved one, and a stated one beats none
    later_date = first.date.value is None and (
        later.date.value is not None or first.date.text is None
    )
    if later_date:
        update["date"] = later.date
    place = first.location.model_dump()
    for name, value in later.location.model_dump().items():
        place[name] = place[name] if place[name] is not None else value
    update["location"] = Location(**place)
    stated = {  # a value first lacks comes from later, and its offsets with it
        "attacker": first.attacker,
        "target": first.target,
        "weapon": first.weapon,
        "victims": first.victims,
        "reported_by": first.reported_by,
        "place": first.location.place,
        "date": None if later_date else first.date.text,
    }
    update["spans"] = {
        **{k: v for k, v in later.spans.items() if stated.get(k) is None},
        **first.spans,
    }
    return first.model_copy(update=update)


def _blank(value: str | None) -> str | None:
    """Models write 'null', 'N/A' or '' for nothing; records say None."""
    if value is None or normalise(value) in _NOTHING:
        return None
    return value.strip()


def grounded_headlines(headlines: list[str], text: str) -> tuple[list[str], list[str]]:
    """Headlines found in the article (in its own wording), and warnings for the rest."""
    found: list[str] = []
    warnings: list[str] = []
    for headline in headlines:
        evidence = locate(headline, text)
        if evidence.match is MatchKind.MISSING:
            warnings.append(f"headline not found in the article, dropped: {headline[:80]!r}")
        elif evidence.quote not in found:
            found.append(evidence.quote)
    return found, warnings
