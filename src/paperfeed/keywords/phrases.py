"""A paper's candidate keyphrases and the few picked by meaning (pure: vectors are passed in).

Candidates are the 1-3 word runs of the title and abstract that could name a topic: inside one
clause (punctuation, LaTeX and links break runs), no stopword or filler word ("propose",
"novel") at either end, none inside but "of" ("mixture of experts"), not only generic words
("results", "large model"), no pure numbers, not ending on an adjective-shaped word, not
starting with a verb-like -ing word. Each is kept in the form it first appears in (title
first), so a chip reads as the paper writes it. `pick_keyphrases` is KeyBERT's idea without
KeyBERT: the candidates nearest the paper's own vector, with maximal marginal relevance so the
few shown are not five spellings of one idea.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from paperfeed.latex import latex_spans

MAX_WORDS = 3
# Past this many characters of title and abstract, candidates are not looked for (arXiv
# abstracts stop at 1,920 characters; other sources' texts can be anything).
MAX_TEXT_CHARS = 4000
MAX_CANDIDATES = 150
KEYPHRASES = 5
# MMR's balance between closeness to the paper (1.0) and difference from phrases picked (0.0).
DIVERSITY_LAMBDA = 0.6

_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
# A word: letters and digits, with inner hyphens, apostrophes or periods kept ("vision-
# language", "GPT-4o", "state-of-the-art"); anything else between words breaks a run unless
# it is plain space.
_TOKEN = re.compile(r"[^\W_](?:[\w'’.+-]*[^\W_]|)|\S", re.UNICODE)
_NUMBER = re.compile(r"^[\d.,%+-]+[a-z]?$", re.IGNORECASE)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOPWORDS = _words(
    """a about above across after again against all almost along already also although always am
    among beyond behind instead namely still through throughout versus an and another any
    are aren't around as at be because been before being below between both but by can
    cannot could did do does doing done down due during each either else enough especially
    etc e.g i.e cf see vs even ever every few for from further furthermore had has have
    having he her here hers him his how however i if in into is isn't it it's its itself
    just least less let like many may me might more moreover most much must my neither no
    nor not now of off often on once one only onto or other others otherwise our ours out
    over own per rather same several shall she should since so some such than that the their
    theirs them themselves then there therefore these they this those though thus to too
    toward towards under unless until up upon us very via was we were what whatever when
    where whereas whether which while who whom whose why will with within without would yet
    you your"""
)
# Words papers use to talk about themselves: never the start or end of a keyphrase.
_FILLER = _words(
    """able achieve achieved achieves achieving address addresses allow allows apply applied
    based better called comprehensive conduct conducted consistently consider crucial
    demonstrate demonstrated demonstrates designed develop developed effectively enable
    enables enhance enhanced enhances evaluate evaluated existing extensive given improve
    improved improves improving including introduce introduced introduces leverage leverages
    leveraging lead leads make makes making novel obtain obtained offers outperform
    outperforms particular perform performs potential present presents previous propose
    proposed proposes provide provides recent recently remain remains require requires show
    shown shows significant significantly specific study superior use used uses using various
    well yields exhibit exhibits aim aims orchestrate learned produce produces generate
    generates learn learns made"""
)
# Words that name no topic alone: a keyphrase needs a word that is none of these.
_GENERIC = _words(
    """accuracy analysis approach approaches benchmark benchmarks challenge challenges
    challenging current data dataset datasets design different effective efficient evaluation
    experiment experiments experimental first framework frameworks good high key large low
    method methods model models new paper performance problem problems research result results
    second simple state strong studies system systems task tasks technique techniques work
    works"""
)
_INNER = frozenset({"of"})
# "X of Y" names a topic when X does ("mixture of experts"), not when X only relates to Y
# ("idea of ClaimPKG", "existence of equilibria").
_RELATIONAL = _words(
    """aim amount behavior behaviour case cases class classes combination concept effect
    effects existence extent form idea importance impact kind lack level levels notion number
    part parts quality range requirement role set sets sort type types understanding use
    value values variability variety way ways"""
)
# A phrase ends on its head noun: not on a word shaped like an adjective or participle
# ("dynamical", "pre-trained", "similar"), save these nouns.
_ADJECTIVE_END = re.compile(r"(?:al|ar|ed|ive|ous|ful|less|able|ible|ent|ant)$", re.IGNORECASE)
_NOUNS_LIKE_ADJECTIVES = _words(
    """agent agents arrival assistant component constraint content context embed environment
    equivalent experiment feed gradient interval journal manual material need patent percent
    portal proposal removal retrieval seed signal speed student survival terminal tutorial
    variant"""
)
# A phrase starting with an -ing word is mostly a verb phrase ("Translating sequential
# programs"), save for these nouns.
_NOUNS_IN_ING = _words(
    """computing clustering encoding embedding engineering forecasting learning mapping
    matching modeling modelling planning pooling pretraining pre-training prompting processing
    ranking reasoning sampling scaling tracking training tuning fine-tuning understanding"""
)


@dataclass(frozen=True)
class Candidate:
    """A phrase as the paper writes it, and the key it is deduplicated by (lowercase)."""

    text: str
    key: str


def _plain_runs(text: str) -> list[str]:
    """`text` with its LaTeX and links taken out, as the pieces between them."""
    pieces: list[str] = []
    position = 0
    for start, end in latex_spans(text):
        pieces.append(text[position:start])
        position = end
    pieces.append(text[position:])
    return [run for piece in pieces for run in _URL.split(piece)]


def _clauses(run: str) -> list[list[str]]:
    """Runs of words with nothing but spaces between them."""
    clauses: list[list[str]] = [[]]
    for match in _TOKEN.finditer(run):
        token = match.group().rstrip(".'’")
        if len(token) > 1 or token.isalnum():
            clauses[-1].append(token)
        elif clauses[-1]:
            clauses.append([])
    return [words for words in clauses if words]


def _breaks(inner_word: str) -> bool:
    """Whether a word inside a phrase ends it ("of" does not: "mixture of experts")."""
    return inner_word not in _INNER and (inner_word in _STOPWORDS or inner_word in _FILLER)


def _end_word(word: str) -> bool:
    """Whether a keyphrase may start or end with `word`."""
    lower = word.lower()
    if lower in _STOPWORDS or lower in _FILLER or _NUMBER.match(word):
        return False
    # Adverbs ("significantly") and one-letter words (variables) name no topic.
    return len(word) > 1 and not (lower.endswith("ly") and len(lower) > 4)


def _head_word(word: str) -> bool:
    """Whether a keyphrase may end with `word` (its head noun)."""
    if not _end_word(word):
        return False
    lower = word.lower()
    last = lower.rsplit("-", 1)[-1]
    return not _ADJECTIVE_END.search(last) or last in _NOUNS_LIKE_ADJECTIVES or word.isupper()


def candidates(title: str, abstract: str, limit: int = MAX_CANDIDATES) -> list[Candidate]:
    """The distinct candidate keyphrases of a paper, title first, in the order they appear,
    at most `limit` (the first ones: a long text's tail adds little)."""
    found: dict[str, Candidate] = {}
    for text in (title, abstract[: max(0, MAX_TEXT_CHARS - len(title))]):
        for run in _plain_runs(text):
            for words in _clauses(run):
                for start in range(len(words)):
                    if not _end_word(words[start]):
                        continue
                    first = words[start].lower()
                    if first.endswith("ing") and first not in _NOUNS_IN_ING:
                        continue
                    for size in range(1, MAX_WORDS + 1):
                        phrase = words[start : start + size]
                        if len(phrase) < size:
                            break
                        inner = phrase[1:-1]
                        if any(_breaks(w.lower()) for w in inner):
                            break
                        if (first in _GENERIC or first in _RELATIONAL) and any(
                            w.lower() == "of" for w in inner
                        ):
                            continue
                        if not _head_word(phrase[-1]) or all(w.lower() in _GENERIC for w in phrase):
                            continue
                        surface = " ".join(phrase)
                        key = surface.lower()
                        if key not in found:
                            found[key] = Candidate(surface, key)
                            if len(found) >= limit:
                                return list(found.values())
    return list(found.values())


def pick_keyphrases(
    phrases: Sequence[str],
    phrase_vectors: npt.NDArray[np.float32],
    paper_vector: npt.NDArray[np.float32],
    count: int = KEYPHRASES,
    diversity_lambda: float = DIVERSITY_LAMBDA,
) -> list[str]:
    """`count` of `phrases` by maximal marginal relevance: each next one the most similar to
    the paper less its similarity to the closest already picked. Vectors are unit length (one
    row per phrase); the result is in the order picked, best first."""
    if not phrases or count < 1:
        return []
    to_paper = phrase_vectors @ paper_vector.astype(np.float32)
    between = phrase_vectors @ phrase_vectors.T
    picked = [int(np.argmax(to_paper))]
    closest = between[picked[0]].copy()
    while len(picked) < min(count, len(phrases)):
        score = diversity_lambda * to_paper - (1 - diversity_lambda) * closest
        score[picked] = -np.inf
        best = int(np.argmax(score))
        picked.append(best)
        closest = np.maximum(closest, between[best])
    return [phrases[i] for i in picked]
