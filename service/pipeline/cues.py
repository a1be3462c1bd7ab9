"""Stage 3a, cues: what code reads from an attack's own sentences, without the model.

Measured on the seeds, a 1.5B model asked for every field of an attack took ten words
of output per field, 20-30 s a call, and chose "carried out" as the weapon and
"on the condition of anonymity" as the date. What news wording states plainly, code
reads here: the weapon (a lexicon of means), the date phrase (weekdays, months,
"yesterday", "last week") and the sub-event type; casualty counts come from the
parse (`counts`). For place and source, code lists the
phrases that can be one (after "in", "near", "at"... that end in a name or a kind of
site, or a town named before the attack noun; before "said", after "according to") and
the model only chooses among them.

Every value is a span of the article with its offsets, or None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from schemas.vocab import SubEventType
from service.core.dates import AFTERWARDS
from service.pipeline.parse import head_of
from service.pipeline.places import RESIDENCE, gazetteer
from service.pipeline.types import Numbered

MAX_CHOICES = 40  # candidate places or sources offered to the model, per attack
MAX_PHRASE_WORDS = 6
LEDE = 3  # headline and first sentences, as numbered by `clean`: the story's own attack


@dataclass(frozen=True)
class Phrase:
    """A span of the article: its text and offsets."""

    text: str
    start: int
    end: int


_WEAPON = re.compile(
    r"\b(?:(?:car|truck|roadside|suicide|vehicle|parcel|letter|improvised|one-way(?: attack)?)"
    r"[ -])?(?:bombs?|explosives?(?: devices?)?|ieds?|dynamite|rockets?|missiles?|mortars?|"
    r"shells|artillery|grenades?|drones?|warplanes?|fighter jets?|helicopters?|guns?|rifles?|"
    r"machine[ -]?guns?|firearms?|pistols?|bullets?|knives|knife|landmines?|mines)\b",
    re.I,
)
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_DATE = re.compile(
    rf"\b(?:(?:early|late|last|on|this|earlier|since) )?{_WEEKDAY}(?: (?:night|morning|evening|"
    rf"afternoon))?\b|\b(?:on |in |since )?(?:{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?(?:,? \d{{4}})?|"
    rf"\d{{1,2}} {_MONTH}(?:,? \d{{4}})?|{_MONTH},? \d{{4}})\b|"
    r"\b(?:yesterday|today|tonight|last (?:night|week|month|year)|"
    r"earlier (?:this|last) (?:week|month|year)|(?:this|last) (?:weekend))\b|" + AFTERWARDS.pattern,
    re.I,
)
_IN_YEAR = re.compile(r"\bin (?:19|20)\d\d\b", re.I)
_VAGUE = re.compile(r"^(?:may|march|mar)\b", re.I)  # "may" the verb, "march" the walk
_DEATH = r"(?:killed|killing|kills|dead|died|deaths?|slain|lives|fatalities|bodies)"
_HARM = r"(?:injured|injuring|injuries|wounded|wounding|wounds|hurt)"


#: Someone was killed or hurt: the words a victim is named beside.
HURT = re.compile(
    rf"\b(?:{_DEATH}|{_HARM}|assassinat\w*|eliminat(?:ed|es|ing)|murder\w*|massacr\w*|casualties|"
    r"victims?|kidnapp\w*|abduct\w*|shot)\b",
    re.I,
)
_HEAD_END = re.compile(r"\s+(?:of|in|at|from|near|with|on|inside|outside)\s+", re.I)
# Heads of phrases that name people ("three US soldiers", "a Hezbollah commander").
_PEOPLE = re.compile(
    r"\b(?:people|persons?|civilians?|children|child|kids?|boys?|girls?|babies|baby|women|"
    r"woman|men|man|sons?|daughters?|wife|husband|family|families|brothers?|residents?|"
    r"villagers?|peasants?|farmers?|workers?|students?|teachers?|doctors?|nurses?|"
    r"journalists?|reporters?|priests?|monks?|nuns?|clerics?|activists?|leaders?|"
    r"commanders?|chiefs?|heads?|founders?|deputy|deputies|spokesman|spokeswoman|officials?|"
    r"ministers?|president|mayors?|governors?|judges?|lawmakers?|politicians?|candidates?|"
    r"diplomats?|ambassadors?|soldiers?|troops|servicem[ae]n|service members|marines?|"
    r"officers?|policem[ae]n|guards?|bodyguards?|personnel|fighters?|militants?|"
    r"members?|rebels?|insurgents?|guerrillas?|gunmen|gunman|passengers?|occupants?|"
    r"pilgrims?|worshippers?|shoppers?|victims?|hostages?|individuals?|citizens?|"
    r"nationals?|general|colonel|captain|major|lieutenant|sergeant)$",
    re.I,
)
_LOCATIVE = re.compile(
    r"\b(?:in|near|at|outside|inside|across|toward|towards|on|(?:north|south|east|west)"
    r"(?:east|west)? of|hit|struck|shelled|bombed|attacked|targeted|raided|stormed)\s+",
    re.I,
)
# "the war in Gaza", "acts of violence in Bangkok": where a war or a wider violence is,
# not where this attack happened.
_WIDER = re.compile(
    r"\b(?:wars?|conflicts?|fighting|violence|crisis|tensions?|campaigns?|operations|presence|"
    r"insurgency|occupation)\s+$",
    re.I,
)
_SAID = re.compile(r"\s+(?:said|says|say|told|reported|confirmed|announced|stated|claimed)\b")
_ACCORDING = re.compile(r"\baccording to\s+", re.I)
# What a source does after its name ("police said", "the Guards confirmed his death",
# "the PMF made no accusation", "Kataib Hezbollah's military spokesperson Jaafar
# al-Husseini posted on X"), and what says the source did the attack itself.
_SPEAKS = re.compile(
    r"(?:['’]s\s+(?:[\w-]+\s+){0,2}?(?:spokes(?:man|woman|person)|statement|office|ministry)"
    r"(?:\s+[\w.'’-]+){0,3}?)?"
    r"\s*(?:\([^()]{0,40}\)\s*)?(?:,[^,.]{0,80},\s*)?(?:has |have |had |also )?"
    r"(?:said|says|say|told|reported|confirmed|announced|stated|added|denied|condemned|"
    r"blamed|accused|made no|posted|wrote|tweeted)\b",
    re.I,
)
_OWN_DEED = re.compile(
    r"\b(?:it|they|we|he|she|its|their|our|his|her)\b[^.;]{0,40}?\b(?:carried out|conducted|"
    r"fired|launched|attacked|struck|hit|killed|shot|bombed|targeted|set off|planted|"
    r"detonated|responsible)\b",
    re.I,
)
_CLAUSE_END = re.compile(r"[,;:!?()\"“”]|\.(?:\s|$)|\s[—–]\s|\s+(?:but|which|who|after|when|as)\s")
# "the group recently said", "Israel has also said": adverbs and auxiliaries before the
# verb are not who said it; "X — an aside — said": X said it.
_BEFORE_SAID = re.compile(
    r"\s+(?:\w+ly|also|again|earlier|later|then|still|already|has|have|had|was|were|is|"
    r"are|would|will)\s*$",
    re.I,
)
_ASIDE = re.compile(r"\s[—–]\s[^—–]*[—–]\s*$")
_NOT_IN_PLACE = re.compile(
    r"\b(?:in|on|at|for|since|that|with|by|to|from|after|during|said|says|carried|killed|"
    r"is|are|was|were|been|has|have|had|who|which)\b|-(?:led|backed|based)\b"
)
# "the Birmingham pub bombings", "the Boston Marathon bombing": a town named before the
# attack (up to two words between) is where it happened.
_ATTACK_NOUN = re.compile(
    r"\b(?:bombings?|attacks?|blasts?|explosions?|shootings?|massacres?|airstrikes?|strikes?)\b"
)
_NAME_BEFORE = re.compile(r"([A-Z][\w.-]*(?: [A-Z][\w.-]*){0,2}) (?:[a-z-]+ ){0,2}$")
_SITE = re.compile(
    r"(?:air ?base|base|camp|village|town|city|district|province|region|neighbou?rhood|area|"
    r"compound|outpost|headquarters|airport|border|checkpoint|station|hospital|school|"
    r"mosque|market|port|street|road|bridge|square|shrine|temple|church|cathedral|"
    r"synagogue|embassy|consulate|hotel|restaurant|cafe|pub|nightclub|stadium|arena|mall|"
    r"building|barracks|prison|university|office|bakery|shop|park)s?$",
    re.I,
)
_CAPITAL = re.compile(r"(?:^|-)[A-Z]")
_DEMONYM = re.compile(r"[A-Z][a-z]+(?:ian|ean|ese|ish)")  # Syrian, Korean, Chinese, British
_ARTICLES = ("the", "a", "an", "this", "that")
_NAME_GOES_ON = re.compile(r"[ -][A-Z]")
_CALENDAR = re.compile(rf"(?:{_MONTH}|{_WEEKDAY})$", re.I)
_WORD = re.compile(r"\S+")

# ACLED means -> sub-event type; the weapon's own phrase first, then the sentences.
_MEANS: list[tuple[SubEventType, re.Pattern[str]]] = [
    (SubEventType.SUICIDE_BOMB, re.compile(r"\bsuicide (?:bomb|attack|car)", re.I)),
    (
        SubEventType.AIR_DRONE_STRIKE,
        re.compile(
            r"\b(?:drones?|air ?strikes?|aircraft|warplanes?|jets?|helicopters?|air raids?|"
            r"strikes?|struck)\b",
            re.I,
        ),
    ),
    (
        SubEventType.SHELLING_MISSILE,
        re.compile(r"\b(?:rockets?|missiles?|mortars?|shells?|shelling|artillery)\b", re.I),
    ),
    (
        SubEventType.REMOTE_EXPLOSIVE,
        re.compile(
            r"\b(?:ieds?|roadside bombs?|car bombs?|landmines?|mines?|explosive devices?|"
            r"explosives?|bombs?|bombings?|blasts?|explosions?|exploded|dynamite)\b",
            re.I,
        ),
    ),
    (SubEventType.GRENADE, re.compile(r"\bgrenades?\b", re.I)),
    (SubEventType.ARMED_CLASH, re.compile(r"\b(?:clash\w*|fighting|battles?|fought)\b", re.I)),
]


def weapon(sentences: list[Numbered]) -> Phrase | None:
    """The first means of attack the sentences name ('one-way drone', 'rockets')."""
    for s in sentences:
        if found := _WEAPON.search(s.text):
            return Phrase(found.group(), s.start + found.start(), s.start + found.end())
    return None


def is_weapon(text: str) -> bool:
    """Whether a phrase's head is a means of attack ('car bomb', 'mines and rifles'): an
    attacker, target or victim is never one."""
    return any(m.end() == len(text.rstrip()) for m in _WEAPON.finditer(text))


def names_people(text: str) -> bool:
    """Whether a phrase's head names people ('three US soldiers', 'the commander of the
    militia'), not a side or a site. The head is the last word before a preposition."""
    return bool(_PEOPLE.search(_head(text)))


def names_site(text: str) -> bool:
    """Whether a phrase's head is a kind of site ('security forces headquarters', 'the
    base'): a place that can be hit, never a side that attacks nor a person hurt."""
    words = _head(text).split()
    return bool(words) and bool(_SITE.fullmatch(words[-1]))


def _head(text: str) -> str:
    """A phrase up to its first preposition: where its head word ends it."""
    return _HEAD_END.split(text, maxsplit=1)[0].rstrip()


# "the strike", "this attack", "those raids": an attack named as one already told. A noun
# with its own complement ("the attack on the embassy", "the strike that killed") names
# the attack it introduces, so it is no reference back.
_BACK = re.compile(
    r"\b(?:the|this|that|these|those)\s+(?:air\s|drone\s|missile\s|latest\s|deadly\s)?"
    r"(?P<noun>strikes?|airstrikes?|attacks?|raids?|operation|blasts?|explosions?|bombings?)\b"
    r"(?!\s+(?:of|on|in|at|near|against|by|that|which|who|from|into)\b)",
    re.I,
)


# An attack told as done: a deed's past tense or its name ("struck", "the bombing", "went
# off", "were killed"), as opposed to weapons found ("the seizure of ... grenades").
_DEED = re.compile(
    rf"\b(?:{_DEATH}|{_HARM}|attack(?:ed|s|ing)?|struck|(?:air)?strikes?|bomb(?:ed|ings?|s)?|"
    r"blasts?|explo(?:ded|sions?)|detonated|went off|blew up|blown up|fire|fired|firing|"
    r"gunfire|gunshots?|shot|"
    r"shooting|shell(?:ed|ing)|ambush(?:ed)?|raid(?:ed|s)?|kidnap\w*|abduct\w*|hijack\w*|"
    r"burn(?:ed|t)|set (?:fire|ablaze)|torched|dynamited?|destroy(?:ed|ing)|damag(?:ed|ing)|"
    r"assassinat\w*|massacr\w*|murder\w*|stabb(?:ed|ing)|hit|clash(?:ed|es)?|casualties|"
    r"sabotag\w*|fighting|battle|hurled|threw|thrown|launched|targeted|victims?|opened fire|"
    r"gunned|machine-?gunned|strafed|strafing|bombard\w*|pounded|lobbed|blew|overran|rammed|"
    r"stormed|hostages?|beheaded|executed|tortured|set off)\b",
    re.I,
)
# ... but not one only planned, threatened, feared or foiled in its own clause ("the
# insurgents will step up their actions to destroy...", "fears of potential attacks").
_UNDONE = re.compile(
    r"\b(?:will|would|could|should|might|can|must|shall|threat\w*|plan\w*|plot\w*|vow\w*|"
    r"intend\w*|seek\w*|prepar\w*|warn\w*|fears?|feared|potential|possible|prevent\w*|"
    r"foil\w*|thwart\w*)\b[^,;:.]*$",
    re.I,
)


def tells_deed(sentences: list[Numbered]) -> bool:
    """Whether the sentences tell of an attack as done, not only planned, threatened or
    feared, nor weapons found: the model, told so, still says yes to such sentences."""
    return any(
        not _UNDONE.search(s.text[: m.start()]) for s in sentences for m in _DEED.finditer(s.text)
    )


def refers_back(sentences: list[Numbered]) -> bool:
    """Whether the sentences name an attack as one the story has already told."""
    return any(_BACK.search(s.text) for s in sentences)


@dataclass(frozen=True)
class Told:
    """Where the story told an attack that a later run names as already told: the
    sentence, and the offset (in the article) where its name of the attack ends."""

    sentence: Numbered
    end: int


def antecedent(run: list[Numbered], sentences: list[Numbered]) -> Told | None:
    """The sentence before the run that told the attack the run opens on as one already
    told: "Those blasts killed four people" goes back to the last sentence before it that
    names blasts ("... the blasts reported earlier at a base south of Baghdad")."""
    back = _BACK.search(run[0].text)
    if back is None:
        return None
    noun = back.group("noun").lower().removesuffix("s")  # "those blasts": a blast, blasts
    named = re.compile(rf"\b{re.escape(noun)}(?:s|es)?\b", re.I)
    for s in reversed([s for s in sentences if s.number < run[0].number]):
        if found := named.search(s.text):
            return Told(s, s.start + found.end())
    return None


def place_after(told: Told) -> Phrase | None:
    """Where the sentence that told an attack placed it: the longest of the first place
    phrases after its name of the attack, in the same clause ("blasts reported earlier at
    a base south of Baghdad"). A bare kind of site ("a base") names no place."""
    s = told.sentence
    rest = s.text[told.end - s.start :]
    edge = _CLAUSE_END.search(rest)
    limit = told.end + (edge.start() if edge else len(rest))
    after = [p for p in places([s]) if told.end <= p.start < limit and not is_generic_site(p.text)]
    return min(after, key=lambda p: (p.start, -p.end), default=None)  # first, then longest


# "since militants attacked Israel on Oct. 7", "those responsible for the killing of
# three soldiers last month": a date in a clause about an earlier event, which the
# attack followed or answered, dates that event. Not "after": in "two were killed after
# gunmen opened fire on Tuesday" the clause tells the attack itself.
_ANSWERED = (
    r"since|in (?:retaliation|response|revenge) (?:for|to)|"
    r"(?:set off|triggered|sparked|provoked) by"
)
_EARLIER = re.compile(rf"\b(?:{_ANSWERED}|responsible for)\b[^,;:.]*$", re.I)


# "as tensions rose after an Israeli airstrike in Beirut that killed...", "the strikes
# come days after US forces killed the leader...": in a sentence that has told an attack
# already, a clause from "after" goes on to another, earlier one. Its dead and wounded
# are that attack's. (Alone, "after" may open the attack itself: "two were killed after
# gunmen opened fire".)
_AFTER_ANOTHER = re.compile(
    r"\b(?:(?:days|hours|weeks|months) after|after (?:an?|another)\s)[^,;:.]*$", re.I
)
# The attack answered ("in retaliation for the killing of three soldiers"). Not
# "responsible for": "a man responsible for a blast which injured several people" tells
# of the attack itself as often as of an earlier one.
_ANSWERING = re.compile(rf"\b(?:{_ANSWERED})\b[^,;:.]*$", re.I)
_TOLD = re.compile(r"\b(?:(?:air)?strikes?|attack\w*|bomb\w*|raids?|shell\w*|struck)\b", re.I)


def about_another(text: str, at: int) -> bool:
    """Whether the words at `at` in a sentence are in a clause about another, earlier
    attack (`_ANSWERING`, `_AFTER_ANOTHER`), not the one the sentence tells."""
    head = text[:at]
    if _ANSWERING.search(head):
        return True
    after = _AFTER_ANOTHER.search(head)
    return after is not None and _TOLD.search(head[: after.start()]) is not None


_SINCE = re.compile(r"since\b", re.I)  # "since January 1988" starts a period, no attack's day
# "Tuesday's airstrike": a date that names an attack, as one the reader knows.
_POSSESSIVE = re.compile(r"['’]s\b")


def when(sentences: list[Numbered], lede: str) -> Phrase | None:
    """The first phrase that dates the attack ('on Tuesday', 'Feb. 7', 'last week'), else
    the first year it is placed in ('in 2020'); not one that dates an earlier event, nor,
    past the `lede` (the text of the story's first sentences), a possessive one the lede
    dates its attack by: "Tuesday's airstrike, reported earlier by Reuters, follows..."
    names the story's own attack, told already, in a sentence about another; nor one that
    dates the telling (`dates_telling`)."""
    for pattern in (_DATE, _IN_YEAR):
        for s in sentences:
            for found in pattern.finditer(s.text):
                if _VAGUE.match(found.group()) and not found.group()[0].isupper():
                    continue
                if _EARLIER.search(s.text[: found.start()]) or _SINCE.match(found.group()):
                    continue
                if s.number > LEDE and _names_told(found.group(), s.text[found.end() :], lede):
                    continue
                if dates_telling(s.text, found.start(), found.end()):
                    continue
                return Phrase(found.group(), s.start + found.start(), s.start + found.end())
    return None


# Verbs of telling: a date that hangs on one dates the telling, not the deed.
_TELLING = frozenset(
    {"say", "tell", "report", "announce", "claim", "confirm", "state", "add", "declare", "deny"}
)


def dates_telling(text: str, start: int, end: int) -> bool:
    """Whether the date phrase at text[start:end] hangs, in the parse, on a verb of telling
    ("police said on Tuesday that a strike on Monday...", "claimed on Wednesday the
    bombing"): the first verb above it says who tells, not what was done."""
    token = head_of(text, start, end)
    if token is None:
        return False
    while token.pos_ not in ("VERB", "AUX") and token.head.i != token.i:
        token = token.head
    return token.pos_ in ("VERB", "AUX") and token.lemma_.lower() in _TELLING


def _names_told(date: str, rest: str, lede: str) -> bool:
    """Whether `date` + `rest` is "Tuesday's ..." and the lede says "Tuesday" too."""
    return (
        bool(_POSSESSIVE.match(rest))
        and re.search(rf"\b{re.escape(date)}\b", lede, re.I) is not None
    )


def attack_type(weapon_phrase: str | None, sentences: list[Numbered]) -> SubEventType:
    """The ACLED sub-event type the weapon names, else the one the wording names first,
    else 'Attack' (armed violence with no stated means)."""
    for text in (weapon_phrase or "", " ".join(s.text for s in sentences)):
        named = [(m.start(), kind) for kind, cue in _MEANS if (m := cue.search(text))]
        if any(kind is SubEventType.SUICIDE_BOMB for _, kind in named):
            return SubEventType.SUICIDE_BOMB  # "suicide car bomb" is a suicide bomb
        if named:
            return min(named)[1]
    return SubEventType.ATTACK


def places(sentences: list[Numbered]) -> list[Phrase]:
    """Phrases that can name where an attack happened: up to six words after 'in',
    'near', 'south of', 'struck'... that end in a capitalised word or a kind of site
    ('base', 'village'). Not a lower-case word that some town is called: geonames lists
    towns named "Of" and "Police", and "the condition of" is no place. A bare name is not
    offered ("Israel said" names an actor), nor one where someone lives or is based, nor
    where a war or a wider violence is ("the war in Gaza")."""
    found: dict[str, Phrase] = {}
    for s in sentences:
        for cue in _LOCATIVE.finditer(s.text):
            if RESIDENCE.search(s.text[: cue.start()]):
                continue  # "normally based in Qatar" says where someone lives
            if _WIDER.search(s.text[: cue.start()]):
                continue  # "the war in Gaza", "operations in the Middle East": not this attack
            for phrase in _runs(s, cue.end()):
                if _NOT_IN_PLACE.search(phrase.text) or _DATE.match(phrase.text):
                    break
                if _ends_in_place(phrase.text) and not _cuts_a_name(s, phrase):
                    found.setdefault(phrase.text, phrase)
        for cue in _ATTACK_NOUN.finditer(s.text):
            if named := _town_before(s, cue.start()):
                found.setdefault(named.text, named)
    return list(found.values())[:MAX_CHOICES]


def _town_before(s: Numbered, end: int) -> Phrase | None:
    """The city or country named just before an attack noun ("Birmingham" of "the
    Birmingham pub bombings"), as its longest known name; read only in mixed-case text."""
    run = _NAME_BEFORE.search(s.text[:end])
    if s.text.isupper() or not run:
        return None
    words = run.group(1).split(" ")
    skip = len(words[0]) + 1 if words[0].lower() in _ARTICLES else 0  # "The Chelsea explosion"
    words = words[1:] if skip else words
    for n in range(len(words), 0, -1):
        name = " ".join(words[:n])
        if not _CALENDAR.match(name) and gazetteer().names_a_town(name):
            start = s.start + run.start(1) + skip
            return Phrase(name, start, start + len(name))
    return None


def _cuts_a_name(s: Numbered, phrase: Phrase) -> bool:
    """Whether a capitalised name runs on past the phrase ("struck Kataib" of "struck
    Kataib Hezbollah's headquarters"): a piece of a name is no place. Read only in
    mixed-case text, where capitals mark names."""
    after = s.text[phrase.end - s.start :]
    return (
        not s.text.isupper()
        and phrase.text.split()[-1][0].isupper()
        and bool(_NAME_GOES_ON.match(after))
    )


def _ends_in_place(phrase: str) -> bool:
    """A name ("Qusayr", "al-Mashtal"), a kind of site ("base") or a numbered name
    ("Tower 22") ends the phrase; not a month, not a figure ("at least 14", "in 10 raids
    near Tower 22": a count, not a place), not a lone letter ("posted on X"), not a
    people's adjective ("Syrian")."""
    *before, last = phrase.split()
    if phrase[0].isdigit():
        return False
    if last.endswith(("'s", "’s")):
        return False  # "Iraq's" modifies the place that follows
    if last[0].isdigit():  # "Tower 22", not "April 15"
        return bool(before) and before[-1][0].isupper() and not _CALENDAR.match(before[-1])
    if len(phrase) == 1:
        return False  # "posted on X": a letter names no place
    if _DEMONYM.fullmatch(last) and not gazetteer().names_a_town(last):
        return False  # "the Russian" of "the Russian republic of Dagestan"
    return bool(_CAPITAL.search(last) and not _CALENDAR.match(last)) or bool(_SITE.search(last))


def is_generic_site(phrase: str) -> bool:
    """A kind of site with only an article: "the region", "a base" name no place."""
    words = phrase.split()
    return len(words) == 2 and words[0].lower() in _ARTICLES and bool(_SITE.fullmatch(words[1]))


# "attacks on U.S. forces", "rockets targeted the base": what comes right after is hit.
_HIT_BEFORE = re.compile(
    r"\b(?:(?:(?:air)?strikes?|attacks?|raids?|assaults?|fire|rockets?|missiles?|bombings?|"
    r"shelling)\s+(?:on|against|at|targeting)|attacked|struck|hit|targeted|targeting|shelled|"
    r"bombed|ambushed)\s+(?:the\s+)?$",
    re.I,
)


def bystander(name: str, sentences: list[Numbered]) -> bool:
    """Whether every mention of `name` in the sentences either tells of the attack ("police
    said", "the Guards confirmed his death"; not "said it fired") or is what it hit
    ("three attacks on U.S. forces"): never the one who did it, though a small model
    offers a source or the side hit as the attacker."""
    mentions = [
        (s.text[: m.start()], s.text[m.end() :])
        for s in sentences
        for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", s.text)
    ]
    return bool(mentions) and all(
        (_SPEAKS.match(after) and not _OWN_DEED.search(after)) or _HIT_BEFORE.search(before)
        for before, after in mentions
    )


def sources(sentences: list[Numbered]) -> list[Phrase]:
    """Phrases that can name who reports the attack: the words before 'said', 'told'...
    and after 'according to', up to the clause's edge."""
    found: dict[str, Phrase] = {}
    for s in sentences:
        for cue in _ACCORDING.finditer(s.text):
            for phrase in _runs(s, cue.end()):
                found.setdefault(phrase.text, phrase)
        for verb in _SAID.finditer(s.text):
            end = verb.start()
            while trailing := _BEFORE_SAID.search(s.text[:end]) or _ASIDE.search(s.text[:end]):
                end = trailing.start()
            for phrase in _runs_before(s, end):
                found.setdefault(phrase.text, phrase)
    return list(found.values())[:MAX_CHOICES]


def _runs(s: Numbered, start: int) -> list[Phrase]:
    """Runs of 1..MAX_PHRASE_WORDS words from `start`, stopping at the clause's edge."""
    rest = s.text[start:]
    edge = _CLAUSE_END.search(rest)
    words = list(_WORD.finditer(rest[: edge.start()] if edge else rest))[:MAX_PHRASE_WORDS]
    return [
        Phrase(
            rest[words[0].start() : w.end()],
            s.start + start + words[0].start(),
            s.start + start + w.end(),
        )
        for w in words
    ]


def _runs_before(s: Numbered, end: int) -> list[Phrase]:
    """Runs of 1..MAX_PHRASE_WORDS words ending at `end`, back to the clause's edge."""
    head = s.text[:end]
    edges = list(_CLAUSE_END.finditer(head))
    begin = edges[-1].end() if edges else 0
    words = list(_WORD.finditer(head, begin))[-MAX_PHRASE_WORDS:]
    return [
        Phrase(head[w.start() : end], s.start + w.start(), s.start + end) for w in reversed(words)
    ]
