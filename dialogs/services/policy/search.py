"""Finding the clause of a school's policy that answers a member of staff's question.

Staff ask in their own words; the bot answers with the school's adopted wording, quoted, with a
citation they can find in the document, or says honestly that the policy does not cover the
question. This module does the finding and the quoting; `policy_sections` did the splitting.
bench/README.md has the measurements behind every default below.

How a question is answered
    1. Words. The question is cut into words, stop words go, and each word is reduced to its
       English stem (PyStemmer), so "photographs" meets "photograph"; irregular forms ("took")
       are mapped first, and a few words the stemmer would confuse ("settings" and "set") are
       kept whole. `policy_vocabulary` has the word lists and says why each is there.
    2. Ideas. Each word of the question is an idea, and so is each paraphrase phrase found in
       it ("friend request", "free period", or "take [a post] down", split by its object).
       Paraphrases bring in the policy's words for the staff's ("kid": pupil, learner, child;
       "boss": line manager, headteacher). A clause scores for an idea the better of the
       question's own words and its best paraphrase (weighted `expansion_weight`), so a clause
       with five synonyms of "offensive" counts one idea, not five. The literal words of a
       staff idiom ("free period") and generic words ("school", "Facebook") weigh less.
    3. Ranking. BM25 (bm25.py, which scores as bm25s does) ranks clauses, the quotable unit. A
       clause's heading path and lead-in are a second, weaker BM25 field (`context_weight`): a
       bullet under "Use of images" is about images even when it only says "permission should be
       sought", but a clause that says "images" itself says it more directly. The score is then
       multiplied by the (IDF-weighted) share of the question's ideas the clause shows
       ("coordination"), so a clause that speaks to most of the question beats one that shares a
       single rare word. Adding the score of the clause's whole section is available
       (`section_weight`) but did not help on the question set, so it is off.
    4. Quote. The top clause is quoted, not its section, with its lead-in ("Staff must not post
       ... about:" before "Current, past or prospective pupils"), and cut to at most
       QUOTE_SENTENCES sentences: the ones that matched, with "…" where text was left out.

When the bot is confident (the "not in the policy" rule)
    The ideas that count as evidence are the question's content words: not stop words, and not
    GENERIC_WORDS ("school", "staff", "social media", platform names), which every clause of a
    social media policy is about. Each weighs its IDF in the policy (as if the policy had at
    least MIN_IDF_CLAUSES clauses), and a word the policy never uses weighs the most: it is the
    strongest sign the question is about something the policy does not mention ("dress code",
    "parking"). An idea is shown by a clause when the clause, its heading or its lead-in has
    the word or all the words of one of its paraphrases (for an idiom, only its paraphrases: a
    "free period" is not shown by "a period of six years"). The answer is confident when the top
    clause shows more than `min_coverage` (half) of the question's weight, and
      - its score leads the best clause of any other section by `min_margin` (a fifth): when two
        parts of the policy answer about equally well, quoting one of them is a guess;
      - a question asking for a time or a person ("how quickly", "who") gets a clause that
        gives one (question_aspect.py).
    A question with no such idea at all ("Can I use social media?", "???", an emoji) is never
    confident. An answer that is not confident still has its closest clauses, which the
    channels show as what "may help", never as the answer.
    The rules were chosen on the older question set and the staff questions' dev split, for
    fewer confident wrong answers at the price of some right ones (bench/README.md).

Typos
    A word that is neither the policy's, nor the tables', nor English is read as the policy
    word it was meant to be (typos.py), before anything else.

Sharing
    A PolicySearch holds nothing that changes after it is built: build it once per policy
    version, cache it, and call `search`/`answer` from any number of threads.
"""

from __future__ import annotations

import bisect
import math
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import Stemmer  # type: ignore[import-not-found]

from dialogs.services.policy.answer import Passage, PolicyAnswer
from dialogs.services.policy.bm25 import BM25
from dialogs.services.policy.parsed import ParsedPolicy, Section, clause_citation
from dialogs.services.policy.question_aspect import AnswerKind, answer_kind, gives
from dialogs.services.policy.typos import TypoReader
from dialogs.services.policy.vocabulary import (
    GENERIC_WORDS,
    IDIOMS,
    PARAPHRASES,
    PLATFORM_NAMES,
    STOP_WORDS,
    UNSTEMMED,
    WORD_FORMS,
)
from dialogs.services.safeguarding.concern import may_concern_a_child

__all__ = ["PLAIN_BM25", "Passage", "PolicyAnswer", "PolicySearch", "SearchOptions"]

QUOTE_SENTENCES = 3
MIN_IDF_CLAUSES = 20
MAX_QUESTION_CHARS = 5000  # longer input is read up to here: nobody types a question this long
ELLIPSIS = "\u2026"


@dataclass(frozen=True)
class SearchOptions:
    """Switches for each idea, defaulting to the best configuration (see bench/README.md)."""

    stemming: bool = True  # English stems, so "photographs" meets "photo"... "photograph"
    stop_words: bool = True  # drop STOP_WORDS from questions and clauses before ranking
    paraphrases: bool = True  # add the policy's words for the staff's (PARAPHRASES)
    expansion_weight: float = 0.85  # weight of an added word; the question's own words weigh 1
    idiom_weight: float = 0.4  # weight of the words of a staff idiom ("free period", "work at")
    generic_weight: float = 0.5  # weight of GENERIC_WORDS in the ranking (1: like any word)
    context: bool = True  # index each clause with its heading path and lead-in
    context_weight: float = 0.5  # how much a heading or lead-in word counts against the clause's
    granularity: Literal["clause", "section"] = "clause"  # what is ranked and quoted
    section_weight: float = 0.0  # share of the clause's section score added to its own score
    coordination: float = 1.0  # multiply by (share of the question's concepts matched) ** this
    coordination_idf: bool = True  # ...each concept weighted by its IDF, as in the confidence rule
    k1: float = 1.5  # BM25 term-frequency saturation
    b: float = 0.75  # BM25 length normalisation
    # The confidence rule: the top clause must show more than this share of the question's
    # concepts (IDF-weighted). 0 turns it off: any clause sharing a word is then an answer.
    min_coverage: float = 0.5
    generic_words: bool = True  # GENERIC_WORDS do not count as evidence (as concepts)
    # The top score's lead over the best clause of another section, as a share of the top
    # score: below it, two parts of the policy answer about equally well, and quoting one of
    # them as the answer is a guess. Clauses of the same section do not count against it.
    min_margin: float = 0.2
    named_platforms: bool = True  # a platform the policy names is no generic word in it
    typos: bool = True  # read a mistyped word as the policy word it was meant to be (typos.py)
    answer_kinds: bool = True  # a "how quickly"/"who" question needs a clause giving a time/person


# Every idea switched off: plain BM25 over clauses and lower-cased words, any match an answer. The
# baseline the benchmarks measure each idea against.
PLAIN_BM25 = SearchOptions(
    stemming=False,
    stop_words=False,
    paraphrases=False,
    context=False,
    section_weight=0.0,
    coordination=0.0,
    min_coverage=0.0,
    min_margin=0.0,
    generic_words=False,
    generic_weight=1.0,
    answer_kinds=False,
    named_platforms=False,
    typos=False,
)


# --- Words -------------------------------------------------------------------------------------

_WORD_RE = re.compile(r"([^\W_]+)(?:['\u2019][^\W_]+)*")  # the word, without "'s" or "'t"
_local = threading.local()


def _words(text: str) -> list[str]:
    """Lower-case words; "kid's" is "kid", and a capital X on its own is the platform."""
    out: list[str] = []
    for word in _WORD_RE.findall(text):
        lower = word.casefold()
        if len(lower) > 1 or lower.isdigit():
            out.append(lower)
        elif word == "X":
            out.append("x")
    return out


def _stemmer() -> Stemmer.Stemmer:
    stemmer: Stemmer.Stemmer | None = getattr(_local, "stemmer", None)
    if stemmer is None:  # Snowball stemmers keep state while they work: one per thread
        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return stemmer


@lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    word = WORD_FORMS.get(word, word)
    return word if word in UNSTEMMED else str(_stemmer().stemWord(word))


def _term(word: str, options: SearchOptions) -> str:
    return _stem(word) if options.stemming else word


def _terms(text: str, options: SearchOptions) -> list[str]:
    return [_term(w, options) for w in _words(text) if not (options.stop_words and w in STOP_WORDS)]


def _key(phrase: str) -> tuple[str, ...]:
    """Phrases are found by their stems, so "sets up" finds "set up" and "pics" finds "pic"."""
    return tuple(_stem(w) for w in _words(phrase))


@dataclass(frozen=True)
class _PhraseInfo:
    adds: frozenset[str]  # the phrases it brings into the question
    idiom: bool  # several words that mean something else together ("free period")


def _phrase_table() -> dict[tuple[str, ...], _PhraseInfo]:
    """Phrase (as words) -> what it adds: said adds written; written adds the other written."""
    adds: dict[tuple[str, ...], set[str]] = {}
    for group in PARAPHRASES:
        for phrase in group.said:
            adds.setdefault(_key(phrase), set()).update(group.written)
        for phrase in group.written:
            adds.setdefault(_key(phrase), set()).update(w for w in group.written if w != phrase)
    idioms = {_key(phrase) for phrase in IDIOMS}
    return {
        words: _PhraseInfo(frozenset(added), words in idioms)
        for words, added in adds.items()
        if words
    }


_PHRASES = _phrase_table()
_LONGEST_PHRASE = max(len(words) for words in _PHRASES)
_GENERIC_SKIP = frozenset({"social", "media", "online", "school", "staff", "policy"})
_PARTICLES = frozenset({"up", "down", "off", "out", "back", "away"})
_MAX_PARTICLE_GAP = 2  # words between a verb and its particle: "take [the post] down"


@lru_cache(maxsize=4)
def _phrase_terms(stemming: bool, stop_words: bool) -> dict[str, tuple[str, ...]]:
    """The terms of every phrase a paraphrase can add, worked out once per way of reading."""
    options = SearchOptions(stemming=stemming, stop_words=stop_words)
    return {
        phrase: tuple(dict.fromkeys(_terms(phrase, options)))
        for info in _PHRASES.values()
        for phrase in info.adds
    }


# --- Sentences and quotes ----------------------------------------------------------------------

_BOUNDARY_RE = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)]*\s+(?=[\"'\u201c\u2018(]?[A-Z0-9])")
_ABBREVIATIONS = frozenset(
    {"e.g.", "i.e.", "etc.", "mr.", "mrs.", "ms.", "dr.", "no.", "st.", "vs."}
)


def _sentences(text: str) -> list[str]:
    out: list[str] = []
    start = 0
    for match in _BOUNDARY_RE.finditer(text):
        before = text[start : match.start()].rsplit(None, 1)
        if before and before[-1].casefold() in _ABBREVIATIONS:
            continue
        out.append(text[start : match.start()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def _quote(
    lead_in: str | None, text: str, weights: dict[str, float], options: SearchOptions
) -> str:
    """The clause with its lead-in, cut to the QUOTE_SENTENCES sentences that matched best."""
    lead_cut = False
    if lead_in:
        lead = _sentences(lead_in)
        lead_cut = len(lead) > 1
        text = f"{lead[-1]} {text}" if lead else text
    sentences = _sentences(text) or [text]
    chosen = list(range(len(sentences)))
    if len(sentences) > QUOTE_SENTENCES:

        def matched(k: int) -> float:
            return sum(weights.get(t, 0.0) for t in set(_terms(sentences[k], options)))

        keep: set[int] = {0} if lead_in else set()  # the lead-in is what makes an item readable
        scores = [matched(k) for k in range(len(sentences))]
        best = sorted((k for k in range(len(sentences)) if scores[k] > 0), key=lambda k: -scores[k])
        for k in best or range(len(sentences)):  # the sentences that matched, else the first
            if len(keep) >= QUOTE_SENTENCES:
                break
            keep.add(k)
        chosen = sorted(keep)
    parts: list[str] = [ELLIPSIS] if lead_cut or chosen[0] > 0 else []
    for position, k in enumerate(chosen):
        if position and k > chosen[position - 1] + 1:
            parts.append(ELLIPSIS)
        parts.append(sentences[k])
    if chosen[-1] < len(sentences) - 1:
        parts.append(ELLIPSIS)
    return " ".join(parts)


# --- Questions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    """One idea in the question: its own words, and the paraphrases that can stand for them.

    A clause scores for a group the better of its own words (summed) and its best paraphrase
    (a phrase's words summed, times expansion_weight), so five synonyms of "offensive" in one
    clause count once, like one word, instead of outweighing the rest of the question.
    """

    own: tuple[tuple[str, float], ...]  # (term, weight)
    alternatives: tuple[tuple[tuple[str, float], ...], ...]  # each a paraphrase: (term, weight)
    evidence: tuple[frozenset[str], ...]  # shows a clause is about it: all the terms of one
    weight: float  # its weight in the confidence rule (IDF of its rarest own word)


@dataclass(frozen=True)
class _Query:
    groups: tuple[_Group, ...]
    weights: dict[str, float]  # term -> weight, for choosing the sentences to quote
    kind: AnswerKind | None = None  # a time or a person, when the question asks for one

    @property
    def concepts(self) -> tuple[_Group, ...]:
        return tuple(g for g in self.groups if g.weight > 0)


class _Ideas:
    """Which words of a question make one idea: the words of a paraphrase found join up.

    A union-find over the question's word positions, with the phrases each paraphrase adds
    (kept at its first word) and the positions that belong to an idiom.
    """

    def __init__(self, size: int) -> None:
        self._parent = list(range(size))
        self.adds: dict[int, set[str]] = {}
        self.idiom: set[int] = set()

    def _root(self, i: int) -> int:
        parent = self._parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(self, info: _PhraseInfo, positions: list[int]) -> None:
        """Record a paraphrase found at these positions: its words become one idea."""
        for j in positions[1:]:
            self._parent[self._root(j)] = self._root(positions[0])
        self.adds.setdefault(positions[0], set()).update(info.adds)
        if info.idiom:
            self.idiom.update(positions)

    def members(self) -> list[list[int]]:
        """The positions of each idea, the ideas in the order of their first word."""
        members: dict[int, list[int]] = {}
        for i in range(len(self._parent)):
            members.setdefault(self._root(i), []).append(i)
        return list(members.values())


def _find_phrases(stems: list[str], words: list[str], ideas: _Ideas) -> None:
    """Join the words of each paraphrase found in the question.

    Longest phrase first, and a word belongs to one phrase: "break the rules" is a breach, and
    its "break" is then no lunch break. Generic words may sit inside a phrase ("break the
    social media rules"), as they say nothing of their own.
    """
    taken: set[int] = set()
    meaningful = [j for j in range(len(words)) if words[j] not in _GENERIC_SKIP]
    for i in range(len(words)):
        if i in taken:
            continue
        match = _phrase_at(i, stems, meaningful, taken)
        if match is not None:
            positions, info = match
            ideas.join(info, positions)
            taken.update(positions)


def _phrase_at(
    i: int, stems: list[str], meaningful: list[int], taken: set[int]
) -> tuple[list[int], _PhraseInfo] | None:
    """The longest phrase starting at word i, its words side by side or skipping generic ones."""
    first = bisect.bisect_right(meaningful, i)
    later = meaningful[first : first + _LONGEST_PHRASE]
    for n in range(min(_LONGEST_PHRASE, len(stems) - i), 0, -1):
        contiguous = list(range(i, i + n))
        skipping = [i, *later[: n - 1]]
        for positions in (contiguous, skipping):
            if len(positions) == n and not taken.intersection(positions):
                info = _PHRASES.get(tuple(stems[k] for k in positions))
                if info is not None:
                    return positions, info
    return None


def _find_split_phrasal_verbs(stems: list[str], words: list[str], ideas: _Ideas) -> None:
    """A phrasal verb can be split by its object: "take a post down", "set it up"."""
    for i in range(len(words)):
        for gap in range(1, _MAX_PARTICLE_GAP + 1):
            end = i + gap + 1
            if end < len(words) and words[end] in _PARTICLES:
                info = _PHRASES.get((stems[i], stems[end]))
                if info is not None:
                    ideas.join(info, [i, end])


# --- The search --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Doc:
    citation: str
    section: str
    section_index: int
    lead_in: str | None
    text: str
    terms: frozenset[str]  # its own words and its context (heading path, lead-in)
    own: frozenset[str]  # its own words


@dataclass(frozen=True)
class _Index:
    bm25: BM25

    def scores(self, groups: tuple[_Group, ...]) -> dict[int, float]:
        """Each document's score: the sum over groups of the better of own words and paraphrase.

        Only the documents that score: a term a document lacks adds 0 to its sum, so leaving
        it out adds the same, in the same order (the sums are those of a dense vector).
        """
        total: dict[int, float] = {}
        for group in groups:
            best = self._weighted_sum(group.own)
            for phrase in group.alternatives:
                for doc, score in self._weighted_sum(phrase).items():
                    if score > best.get(doc, 0.0):
                        best[doc] = score
            _add(total, best)
        return total

    def _weighted_sum(self, terms: tuple[tuple[str, float], ...]) -> dict[int, float]:
        summed: dict[int, float] = {}
        for t, weight in terms:
            for doc, score in self.bm25.scores(t).items():
                summed[doc] = summed.get(doc, 0.0) + weight * score
        return summed


def _add(total: dict[int, float], more: dict[int, float], weight: float = 1.0) -> None:
    """total += weight * more, document by document."""
    for doc, score in more.items():
        total[doc] = total.get(doc, 0.0) + weight * score


def _build_index(corpus: list[list[str]], options: SearchOptions) -> _Index | None:
    if not any(corpus):
        return None  # a corpus without a single word has nothing to rank
    return _Index(BM25.index(corpus, k1=options.k1, b=options.b))


@dataclass
class _Scored:
    order: tuple[int, ...]  # documents with a positive score, best first
    scores: dict[int, float]  # every document with a positive score
    query: _Query = field(repr=False)
    # The weight of the query's concepts each clause shows, for the confidence rule and "may
    # help": worked out once per question, when first needed (PolicySearch._coverage).
    shown: dict[int, float] | None = field(default=None, repr=False)


class PolicySearch:
    """BM25 over a policy's clauses, with paraphrases and an honest "not in the policy"."""

    def __init__(self, policy: ParsedPolicy, options: SearchOptions | None = None) -> None:
        self.options = options or SearchOptions()
        opts = self.options
        docs: list[_Doc] = []
        doc_tokens: list[list[str]] = []
        section_tokens: list[list[str]] = []
        context_tokens: list[list[str]] = []
        leads: dict[str, list[str]] = {}  # a lead-in introduces many items: read it once
        for index, section in enumerate(policy.sections):
            heading = _terms(" ".join(section.heading_path), opts)
            owns = [_terms(clause.text, opts) for clause in section.clauses]
            body = [t for own in owns for t in own]
            section_tokens.append(heading + body)
            if opts.granularity == "section":
                context = heading if opts.context else []
                docs.append(
                    _Doc(section.citation, section.citation, index, None, _section_text(section),
                         frozenset(body + context), frozenset(body))
                )  # fmt: skip
                doc_tokens.append(body)
                context_tokens.append(context)
                continue
            for clause, own in zip(section.clauses, owns, strict=True):
                context = []
                if opts.context:
                    lead = clause.lead_in or ""
                    if lead not in leads:
                        leads[lead] = _terms(lead, opts)
                    context = heading + leads[lead]
                docs.append(
                    _Doc(clause_citation(section, clause), section.citation, index,
                         clause.lead_in, clause.text, frozenset(own + context), frozenset(own))
                )  # fmt: skip
                doc_tokens.append(own)
                context_tokens.append(context)
        self._docs = tuple(docs)
        self._index = _build_index(doc_tokens, opts)
        # Heading and lead-in words are a second, weaker field: they say what a clause is about
        # ("Use of images"), but a clause that uses the words itself says it more directly.
        self._context = _build_index(context_tokens, opts) if opts.context else None
        use_sections = opts.granularity == "clause" and opts.section_weight > 0
        self._sections = _build_index(section_tokens, opts) if use_sections else None
        n = len(docs)
        df: dict[str, int] = {}
        for doc in docs:
            for t in doc.terms:
                df[t] = df.get(t, 0) + 1
        # IDF as if there were at least MIN_IDF_CLAUSES clauses: in a one-page policy every word
        # would otherwise look common next to a word the policy does not use.
        n_idf = max(n, MIN_IDF_CLAUSES)
        self._idf = {t: _idf(f, n_idf) for t, f in df.items()}
        self._postings = _postings([d.terms for d in docs])
        self._own_postings = _postings([d.own for d in docs])
        self._unseen_idf = _idf(0, n_idf)
        self._generic = frozenset(_term(w, opts) for w in GENERIC_WORDS)
        # A platform the policy names weighs like any word in the ranking (never as evidence).
        self._named = (
            frozenset(_term(w, opts) for w in PLATFORM_NAMES) & set(self._postings)
            if opts.named_platforms
            else frozenset()
        )
        self._phrase_terms = _phrase_terms(opts.stemming, opts.stop_words)
        self._typos = TypoReader(_vocabulary(policy)) if opts.typos else None

    # -- public -------------------------------------------------------------------------------

    def search(self, question: str, k: int = 3) -> list[Passage]:
        """The k clauses that best answer the question, best first (none when nothing matches)."""
        scored = self._score(question)
        return self._passages(scored, k) if scored is not None else []

    def answer(self, question: str, k: int = 3) -> PolicyAnswer:
        """The best clauses, and whether the top one is a confident answer (see module doc)."""
        child_safety = may_concern_a_child(question[:MAX_QUESTION_CHARS])
        scored = self._score(question)
        if scored is None:
            return PolicyAnswer(question, False, (), child_safety)
        passages = self._passages(scored, k)
        return PolicyAnswer(question, self._confident(scored), tuple(passages), child_safety)

    # -- internals -----------------------------------------------------------------------------

    def _analyse(self, question: str) -> _Query:
        words = _words(question[:MAX_QUESTION_CHARS])
        if self._typos is not None:
            words = [w if w in STOP_WORDS else self._typos.read(w) for w in words]
        ideas = _Ideas(len(words))
        if self.options.paraphrases:
            stems = [_stem(w) for w in words]
            _find_phrases(stems, words, ideas)
            _find_split_phrasal_verbs(stems, words, ideas)
        groups: dict[tuple[object, ...], _Group] = {}
        weights: dict[str, float] = {}
        for positions in ideas.members():
            group = self._group(words, positions, ideas)
            if group is None:
                continue
            groups.setdefault((group.own, group.alternatives), group)
            for t, w in (*group.own, *(pair for phrase in group.alternatives for pair in phrase)):
                weights[t] = max(weights.get(t, 0.0), w)
        return _Query(tuple(groups.values()), weights, answer_kind(question[:MAX_QUESTION_CHARS]))

    def _group(self, words: list[str], positions: list[int], ideas: _Ideas) -> _Group | None:
        """One idea of the question as the ranking and the confidence rule see it, if any."""
        own = self._own_terms(words, positions, ideas.idiom)
        alternatives = self._alternatives(positions, ideas.adds, own)
        if not own and not alternatives:
            return None
        evidence, weight = self._evidence(words, positions, ideas.idiom, alternatives)
        weighted = tuple(
            tuple((t, self._weight(t, paraphrase=True)) for t in terms) for terms in alternatives
        )
        return _Group(tuple(sorted(own.items())), weighted, evidence, weight)

    def _own_terms(
        self, words: list[str], positions: list[int], idiom: set[int]
    ) -> dict[str, float]:
        """The idea's own words as ranking terms, each with its weight."""
        opts = self.options
        own: dict[str, float] = {}
        for i in positions:
            word = words[i]
            if opts.stop_words and word in STOP_WORDS:
                continue
            t = _term(word, opts)
            own[t] = max(own.get(t, 0.0), self._weight(t, idiom=i in idiom))
        return own

    def _alternatives(
        self, positions: list[int], adds: dict[int, set[str]], own: dict[str, float]
    ) -> list[tuple[str, ...]]:
        """The terms of each paraphrase the idea brings in, once each, none that merely repeats
        one of its own words."""
        phrases = {p for i in positions for p in adds.get(i, ())}
        alternatives: list[tuple[str, ...]] = []
        for phrase in sorted(phrases):
            terms = self._phrase_terms[phrase]
            if terms and terms not in alternatives and not (len(terms) == 1 and terms[0] in own):
                alternatives.append(terms)
        return alternatives

    def _evidence(
        self,
        words: list[str],
        positions: list[int],
        idiom: set[int],
        alternatives: list[tuple[str, ...]],
    ) -> tuple[tuple[frozenset[str], ...], float]:
        """What shows a clause is about the idea, and the idea's weight in the confidence rule.

        The confidence rule ignores stop words and generic words whatever the ranking does, so
        an idea made only of those is no evidence and weighs nothing.
        """
        opts = self.options
        content = {
            _term(words[i], opts)
            for i in positions
            if words[i] not in STOP_WORDS
            and not (opts.generic_words and _term(words[i], opts) in self._generic)
        }
        if not content:
            return (), 0.0
        found: list[frozenset[str]] = []
        literal = {
            _term(words[i], opts) for i in positions if i not in idiom
        } & content  # an idiom's own words are no evidence: "free period", "period"
        if literal:
            # One word of a phrase is not the phrase: "request" is no friend request.
            found.append(frozenset(literal))
        for terms in alternatives:
            kept = frozenset(t for t in terms if t not in self._generic)
            if kept:  # "school hours" shows itself by "hours"; "social media" never
                found.append(kept)
        return tuple(found), max(self._idf.get(t, self._unseen_idf) for t in content)

    def _weight(self, term: str, *, idiom: bool = False, paraphrase: bool = False) -> float:
        """A term's weight in the ranking: the question's own words 1, everything else less."""
        opts = self.options
        weight = opts.expansion_weight if paraphrase else opts.idiom_weight if idiom else 1.0
        if term in self._generic and term not in self._named:
            weight *= opts.generic_weight
        return weight

    def _score(self, question: str) -> _Scored | None:
        if self._index is None:
            return None
        query = self._analyse(question)
        if not query.groups:
            return None
        scores = self._index.scores(query.groups)
        if self._context is not None:
            _add(scores, self._context.scores(query.groups), self.options.context_weight)
        if self._sections is not None:
            by_section = self._sections.scores(query.groups)
            of_clauses = {
                doc: by_section[d.section_index]
                for doc, d in enumerate(self._docs)
                if d.section_index in by_section
            }
            _add(scores, of_clauses, self.options.section_weight)
        concepts = query.concepts
        if self.options.coordination > 0 and concepts:
            # A clause that speaks to more of what was asked beats one that shares a rare word.
            found = self._found(concepts, partial=True)
            total = (
                sum(c.weight for c in concepts) if self.options.coordination_idf else len(concepts)
            )
            smooth = total / (len(concepts) + 1)
            power = self.options.coordination
            for doc, score in scores.items():
                scores[doc] = score * ((found.get(doc, 0.0) + smooth) / (total + smooth)) ** power
        # Best first; equal scores in the policy's order (a stable sort of the documents).
        ranked = sorted((d for d in sorted(scores) if scores[d] > 0), key=lambda d: -scores[d])
        order = tuple(ranked)
        if not order:
            return None
        return _Scored(order, {d: scores[d] for d in order}, query)

    def _passages(self, scored: _Scored, k: int) -> list[Passage]:
        out: list[Passage] = []
        for i in scored.order[: max(k, 0)]:
            doc = self._docs[i]
            text = _quote(doc.lead_in, doc.text, scored.query.weights, self.options)
            shows = self._coverage(scored, i)  # what a "may help" clause must have some of
            out.append(Passage(doc.citation, doc.section, text, float(scored.scores[i]), shows))
        return out

    def _found(self, concepts: tuple[_Group, ...], *, partial: bool) -> dict[int, float]:
        """For every clause, the weight of the question's concepts it shows.

        Without `partial` (the confidence rule), a concept shown by the heading or lead-in counts
        like one shown by the clause's own words; with it (coordination), context_weight of it.
        With `coordination_idf` off, coordination counts every concept as 1.
        """
        found: dict[int, float] = {}  # a clause showing none of them is not in it
        for concept in concepts:
            own: set[int] = set()
            anywhere: set[int] = set()
            for terms in concept.evidence:
                anywhere |= self._all_of(terms, self._postings)
                if partial:
                    own |= self._all_of(terms, self._own_postings)
            weak = self.options.context_weight if partial else 1.0
            credit = {doc: 1.0 if doc in own else weak for doc in anywhere}
            weight = concept.weight if self.options.coordination_idf or not partial else 1.0
            _add(found, credit, weight)
        return found

    def _all_of(self, terms: frozenset[str], postings: dict[str, frozenset[int]]) -> frozenset[int]:
        """The clauses that have every one of `terms` (the rarest term's first)."""
        if not terms:
            return frozenset(range(len(self._docs)))
        having = sorted((postings.get(t, frozenset()) for t in terms), key=len)
        return having[0].intersection(*having[1:])

    def _coverage(self, scored: _Scored, doc: int) -> float:
        """The IDF-weighted share of the question's concepts the clause (with context) shows."""
        concepts = scored.query.concepts
        total = sum(c.weight for c in concepts)
        if not total:
            return 0.0
        if scored.shown is None:
            scored.shown = self._found(concepts, partial=False)
        return scored.shown.get(doc, 0.0) / total

    def _confident(self, scored: _Scored) -> bool:
        opts = self.options
        top = scored.order[0]
        if opts.min_coverage > 0 and self._coverage(scored, top) <= opts.min_coverage:
            return False
        if opts.answer_kinds and scored.query.kind is not None:
            doc = self._docs[top]
            if not gives(
                scored.query.kind, " ".join(filter(None, (doc.section, doc.lead_in, doc.text)))
            ):
                return False
        if opts.min_margin > 0:
            best = float(scored.scores[top])
            section = self._docs[top].section
            other = next(
                (float(scored.scores[i]) for i in scored.order
                 if self._docs[i].section != section),
                0.0,
            )  # fmt: skip
            if (best - other) / best < opts.min_margin:
                return False
        return True


def _vocabulary(policy: ParsedPolicy) -> set[str]:
    """Every word a question's typo may have been meant as: the policy's and the tables'."""
    words: set[str] = set(STOP_WORDS) | set(GENERIC_WORDS) | set(WORD_FORMS)
    for group in PARAPHRASES:
        for phrase in (*group.said, *group.written):
            words.update(_words(phrase))
    for phrase in IDIOMS:
        words.update(_words(phrase))
    for section in policy.sections:
        words.update(_words(" ".join(section.heading_path)))
        for clause in section.clauses:
            words.update(_words(clause.text))
            if clause.lead_in:
                words.update(_words(clause.lead_in))
    return words


def _postings(docs: list[frozenset[str]]) -> dict[str, frozenset[int]]:
    """Term -> the documents that contain it."""
    found: dict[str, list[int]] = {}
    for i, terms in enumerate(docs):
        for t in terms:
            found.setdefault(t, []).append(i)
    return {t: frozenset(ids) for t, ids in found.items()}


def _idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def _section_text(section: Section) -> str:
    return " ".join(c.text for c in section.clauses)
