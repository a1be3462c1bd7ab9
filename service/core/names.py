"""How two spellings of one name are told to be the same: the one normaliser.

Records merge on it (`records.same_event`), linking and its gazetteer (`service.link.geo`)
look names up by it, and the alias table (`aliases`) and the evals' scorer compare by it,
so a name that matches in one place matches in all of them.
"""

from __future__ import annotations

import re

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def normalise(value: str) -> str:
    """Lower-case, drop apostrophes/periods/quotes and a leading article, collapse the rest.

    So "U.S." == "US", "Kata’ib" == "Kataib" and "the Pentagon" == "Pentagon".
    """
    text = value.translate(_QUOTES).lower()
    text = re.sub(r"['.\"]", "", text)
    text = re.sub(r"[\W_]+", " ", text).strip()
    return re.sub(r"^(the|a|an) ", "", text)
