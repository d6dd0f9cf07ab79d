"""Transparent triage rules: the per-language word lists in data/rules/*.yaml, compiled.

Every hit names its list, its language and the lexicon word (never the reporter's own
text), so a handler can see why a report was judged urgent or put in a category.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from service.triage.text import is_khmer, normalise, skeleton

RULES_DIR = Path(__file__).parent / "data" / "rules"
TYPO_MIN = 6
SKELETON_MIN = 3  # a word of a Khmer-Latin urgent phrase with a skeleton this long may be spelled another way
URGENT_GROUPS = ("detained_now", "violence", "suicide", "medical_emergency", "threat")
COMBINED_GROUPS = ("child_at_risk", "imminent", "taken", "held", "fire")  # two lists that together make a report urgent
PAIRS = {  # yaml section: (list a, list b)
    "imminent": ("soon", "harm"),
    "taken": ("force", "vehicle"),
    "held": ("hold", "place"),
    "not_let_go": ("let", "leave"),
    "tied": ("tie", "to"),
    "fire": ("home", "burning"),
}
REPORTED_AS = {"not_let_go": "held", "tied": "held"}  # a pair found under another pair's name (and reason)
# Pairs whose second word must follow the first closely: "locked the widow and her children in a
# room", "threw my cousin in the back of a truck", "not letting my brother leave", "tied my cousin
# to the bed" (its own lists: Khmer ចង and Khmer-Latin `chong` are also "want", and must not pair
# with the rooms of `held`), "the shacks
# behind the market are burning". The two are common words apart; together, a few words apart,
# they say someone is being held, or a home is on fire.
# At most this many characters from the end of the first word to the second:
NEAR = {"held": 40, "not_let_go": 30, "tied": 40, "fire": 40}
EITHER_ORDER = {"fire"}  # "the houses are burning", "burning the houses"
HELD_PAIRS = {"held", "taken"}  # pairs that say someone is held or taken: over once released and safe
# The model's rule features (their number is fixed by the cached model): a pair of NEAR counts as the
# feature of the pair it refines ("held" is being taken or held, like "taken"); "fire" has none of
# its own (the rule alone makes the report urgent, and the model may only add urgency).
FEATURE_PAIRS = {"imminent": ("imminent",), "taken": ("taken", "held")}
# "because I am trans", "só porque sou seropositiva", "ព្រោះខ្ញុំជាខ្ទើយ": a reason word followed closely
# by who the person is makes the message count a stigma word (docs/triage.md, "Categories").
IDENTITY_REASON = "stigma_discrimination/refused_for_identity"
IDENTITY_GAP = 30  # at most this many characters between the reason word and the identity word
# The category whose topic words (police, the mine, compensation, a lawyer: `topic:` in each rule
# file) are set aside in a question, a thank-you or a harm said not to have happened
# (docs/triage.md, "Categories": a question about rights is `other` until it says something was denied).
RIGHTS = "human_rights_violation"
# Past markers of the verb that follows them (Khmer ធ្លាប់, "used to", "have ever"): they date only
# their own phrase, up to the next space between two Khmer letters (`past_in_phrase:`).
IN_PHRASE = "in_phrase"
# A space between two Khmer letters ends a phrase: Khmer writes no spaces between words.
_KHMER_BREAK = re.compile(r"(?<=[\u1780-\u17ff]) (?=[\u1780-\u17ff])")


@dataclass(frozen=True)
class Term:
    language: str
    section: str  # urgent, child, harm, past, now, high, category, population
    group: str  # e.g. violence, service_quality/stockout, msm
    word: str


@dataclass
class Hit:
    term: Term
    start: int
    end: int
    negated_by: str | None = None


class Doc:
    """A normalised message split once into tokens with their character offsets."""

    __slots__ = ("text", "tokens", "starts", "has_khmer")

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[str] = []
        self.starts: list[int] = []
        for m in _TOKEN.finditer(text):
            self.tokens.append(m.group())
            self.starts.append(m.start())
        self.has_khmer = any(is_khmer(ch) for ch in text)


_TOKEN = re.compile(r"\S+")
COENG = "\u17d2"
# An amount of money in any of the four languages: "20000r", "$5", "500 mt", "២ម៉ឺនរៀល", "R200", "3000 baht".
_MONEY = re.compile(
    r"(?:\$\s?\d|\d[\d.,]*\s?(?:\$|r|riel|riels|rieal|usd|dollars?|mt|mts|meticais|rands?|zar|mern|meun|poan|"
    r"baht|ម៉ឺន|ពាន់|រៀល|ដុល្លារ)(?![a-z])"
    r"|(?<![a-z0-9])r\s?\d"  # rand written before the number: "R200", "R 50"
    r"|(?<![a-z])(?:ask|asks|asked|pay|paid|charge|charged|charges|cobra|cobram|cobrou|cobraram|pagar|paguei|"
    r"tear|keit)\s+\d)"
)


class _Matcher:
    """Many lexicon words matched at once: Latin words by token lookup (a trailing star
    matches any ending), Khmer words by substring search (Khmer has no spaces)."""

    def __init__(self, terms: list[Term]) -> None:
        self.exact: dict[str, list[tuple[tuple[str, ...], bool, list[Term]]]] = {}
        self.prefix: dict[str, list[Term]] = {}
        self.khmer: dict[str, list[Term]] = {}
        phrases: dict[tuple[tuple[str, ...], bool], list[Term]] = {}
        for term in terms:
            wildcard = term.word.endswith("*")
            core = normalise(term.word.rstrip("*"))
            if not core:
                continue
            if any(is_khmer(ch) for ch in core):
                self.khmer.setdefault(core, []).append(term)
            elif wildcard and " " not in core:
                self.prefix.setdefault(core, []).append(term)
            else:
                phrases.setdefault((tuple(core.split()), wildcard), []).append(term)
        for (tokens, wildcard), group in phrases.items():
            self.exact.setdefault(tokens[0], []).append((tokens, wildcard, group))
        self.min_prefix = min((len(k) for k in self.prefix), default=0)

    def find(self, doc: Doc) -> list[Hit]:
        hits: list[Hit] = []
        tokens, starts, n = doc.tokens, doc.starts, len(doc.tokens)
        exact, prefix = self.exact, self.prefix
        for i, token in enumerate(tokens):
            for phrase, wildcard, group in exact.get(token, ()):
                k = len(phrase)
                if k == 1:
                    end = starts[i] + len(token)
                elif (
                    i + k <= n
                    and all(tokens[i + j] == phrase[j] for j in range(1, k - 1))
                    and (tokens[i + k - 1].startswith(phrase[-1]) if wildcard else tokens[i + k - 1] == phrase[-1])
                ):
                    end = starts[i + k - 1] + len(tokens[i + k - 1])
                else:
                    continue
                hits.extend(Hit(t, starts[i], end) for t in group)
            if prefix and len(token) >= self.min_prefix:
                for size in range(self.min_prefix, len(token) + 1):
                    found = prefix.get(token[:size])
                    if found:
                        hits.extend(Hit(t, starts[i], starts[i] + len(token)) for t in found)
        if doc.has_khmer and self.khmer:
            text = doc.text
            for word, group in self.khmer.items():
                at = text.find(word)
                # A match may not start inside a stacked consonant: ទះ "slap" is not in ផ្ទះ "house".
                while at > 0 and text[at - 1] == COENG:
                    at = text.find(word, at + 1)
                if at >= 0:
                    hits.extend(Hit(t, at, at + len(word)) for t in group)
        return hits


@dataclass
class _Negation:
    regex: re.Pattern
    breakers: frozenset[str]
    # Words that open a new clause when a word already stands between the negation and them:
    # "se eu n abrir vai me levar" ("if I do not open, he will take me": the "not" ends at
    # "abrir"); right after the negation they are what it negates ("nao vai me levar").
    clause_starts: frozenset[str] = frozenset()


@dataclass
class RuleSet:
    urgent: _Matcher
    child: _Matcher
    harm: _Matcher
    pairs: dict[str, tuple[_Matcher, _Matcher]]
    past: _Matcher
    now: _Matcher
    high: _Matcher
    still: _Matcher
    lost: _Matcher
    categories: dict[str, _Matcher]
    populations: dict[str, _Matcher]
    negation: dict[str, _Negation]
    ignore: re.Pattern | None
    # what an ignored phrase leaves behind ("ចាប់តាំងពី" → "តាំងពី": "since" stays a since word
    # once its ចាប់, "arrest", is gone); a space for the others
    ignore_keep: dict[str, str] = field(default_factory=dict)
    spellings: dict[str, dict[str, str]] = field(default_factory=dict)
    words: dict[str, set[str]] = field(default_factory=dict)
    typo_words: set[str] = field(default_factory=set)
    typo_deletions: dict[str, str] = field(default_factory=dict)
    # every Latin-letter word the lists use, phrases included: a word of the lists is not a
    # misspelling of another ("eating" of "not eating" is not "beating" with a letter left out)
    list_words: frozenset[str] = frozenset()
    # Khmer-Latin urgent phrases by the consonant skeletons of their words (text.skeleton):
    # first skeleton -> [(skeletons, the phrase's words)]
    skeletons: dict[str, list[tuple[tuple[str, ...], list[str]]]] = field(default_factory=dict)
    because: _Matcher | None = None
    identity: _Matcher | None = None
    # (language, word) of the rights-abuse words that are topic words, and the denial words
    topic_words: frozenset[tuple[str, str]] = frozenset()
    denied: _Matcher | None = None
    ask: _Matcher | None = None
    # a harm said not to have happened with the person safe now (`safe_now:` in each rule file):
    # verbs of taking or hurting (read only negated) and words saying the person is safe now
    undone: _Matcher | None = None
    safe: _Matcher | None = None
    # ... and words for a release ("released from the police post this morning, he is home now")
    released: _Matcher | None = None
    # "since" before a past marker: what began then goes on ("held at the centre since last week")
    since: _Matcher | None = None


def _load_files() -> dict[str, dict]:
    files = {}
    for path in sorted(RULES_DIR.glob("*.yaml")):
        # BaseLoader: every word stays a string ("no" and "on" are words here, not booleans).
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
        files[data["language"]] = data
    return files


def _negation(lang: str, spec: dict) -> _Negation:
    cues = sorted((normalise(c) for c in spec.get("cues", [])), key=len, reverse=True)
    cue_alt = "|".join(re.escape(c).replace(r"\ ", r"\s+") for c in cues if c)
    breakers = frozenset(normalise(b) for b in spec.get("breakers", []))
    if lang == "km":
        fillers = "|".join(re.escape(normalise(f)) for f in spec.get("fillers", []))
        regex = re.compile(rf"(?:{cue_alt})(?P<fill>(?:\s*(?:{fillers}))*)\s*$")
    else:
        window = int(spec.get("window", 2))
        regex = re.compile(rf"(?<![a-z0-9])(?:{cue_alt})(?P<fill>(?:\s+[a-z0-9$]+){{0,{window}}})\s*$")
    clause_starts = frozenset(normalise(w) for w in spec.get("clause_starts", []))
    return _Negation(regex, breakers, clause_starts)


@lru_cache(maxsize=1)
def ruleset() -> RuleSet:
    """All languages' rules, compiled once per process."""
    files = _load_files()
    buckets: dict[str, list[Term]] = {
        k: [] for k in ("urgent", "child", "harm", "past", "now", "high", "still", "lost")
    }
    pair_terms: dict[str, tuple[list[Term], list[Term]]] = {name: ([], []) for name in PAIRS}
    because_terms: list[Term] = []
    identity_terms: list[Term] = []
    categories: dict[str, list[Term]] = {}
    populations: dict[str, list[Term]] = {}
    ignore: list[str] = []
    ignore_keep: dict[str, str] = {}
    words: dict[str, set[str]] = {}
    list_words: set[str] = set()
    topic_words: set[tuple[str, str]] = set()
    denied_terms: list[Term] = []
    ask_terms: list[Term] = []
    undone_terms: list[Term] = []
    safe_terms: list[Term] = []
    released_terms: list[Term] = []
    since_terms: list[Term] = []
    for lang, data in files.items():
        # Words of the language one letter from an urgent word, that are not its misspelling.
        list_words.update(normalise(str(w)) for w in data.get("not_misspelled") or [])
        safe_now = data.get("safe_now") or {}
        undone_terms.extend(Term(lang, "undone", "safe_now", str(w)) for w in safe_now.get("harm") or [])
        safe_terms.extend(Term(lang, "safe", "safe_now", str(w)) for w in safe_now.get("safe") or [])
        released_terms.extend(Term(lang, "released", "safe_now", str(w)) for w in safe_now.get("released") or [])
        topic = data.get("topic") or {}
        topic_words.update((lang, str(w)) for w in topic.get("words") or [])
        denied_terms.extend(Term(lang, "denied", "denied", str(w)) for w in topic.get("denied") or [])
        ask_terms.extend(Term(lang, "ask", "ask", str(w)) for w in topic.get("ask") or [])

        def add(bucket: list[Term], section: str, group: str, items: list | None) -> None:
            for item in items or []:
                bucket.append(Term(lang, section, group, str(item)))
                core = normalise(str(item).rstrip("*"))
                if core and " " not in core:
                    words.setdefault(lang, set()).add(core)
                list_words.update(w for w in core.split() if w.isascii())

        for group, items in (data.get("urgent") or {}).items():
            add(buckets["urgent"], "urgent", group, items)
        child = data.get("child_at_risk") or {}
        add(buckets["child"], "child", "child_at_risk", child.get("child"))
        add(buckets["harm"], "harm", "child_at_risk", child.get("harm"))
        for name, (first, second) in PAIRS.items():
            pair = data.get(name) or {}
            add(pair_terms[name][0], first, name, pair.get(first))
            add(pair_terms[name][1], second, name, pair.get(second))
        reason = data.get("identity_reason") or {}
        add(because_terms, "because", IDENTITY_REASON, reason.get("because"))
        add(identity_terms, "identity", IDENTITY_REASON, reason.get("identity"))
        add(buckets["past"], "past", "past", data.get("past"))
        add(buckets["past"], "past", IN_PHRASE, data.get("past_in_phrase"))
        add(since_terms, "since", "since", data.get("since"))
        add(buckets["now"], "now", "now", data.get("now"))
        add(buckets["still"], "still", "still", data.get("still"))
        add(buckets["lost"], "lost", "lost", data.get("lost"))
        for group, items in (data.get("high") or {}).items():
            add(buckets["high"], "high", group, items)
        cat_terms = categories.setdefault(lang, [])
        for category, subs in (data.get("categories") or {}).items():
            for sub, items in subs.items():
                add(cat_terms, "category", f"{category}/{sub}", items)
        pop_terms = populations.setdefault(lang, [])
        for population, items in (data.get("populations") or {}).items():
            add(pop_terms, "population", population, items)
        for item in data.get("ignore") or []:
            # a phrase, or `phrase: what remains of it`
            for phrase, kept in item.items() if isinstance(item, dict) else [(item, None)]:
                ignore.append(normalise(str(phrase)))
                if kept:
                    ignore_keep[normalise(str(phrase))] = normalise(str(kept))
    # Long words of the urgent lists, for spotting them misspelled by one letter ("somab khluon").
    common = {normalise(w) for data in files.values() for k, v in (data.get("spellings") or {}).items() for w in (k, v)}
    typo_words = {
        w
        for t in buckets["urgent"]
        for w in normalise(t.word.rstrip("*")).split()
        if len(w) >= TYPO_MIN and w.isascii() and w.isalpha() and w not in common
    }
    typo_deletions = {w[:i] + w[i + 1 :]: w for w in typo_words for i in range(len(w))}
    ignore_re = re.compile("|".join(re.escape(i) for i in sorted(ignore, key=len, reverse=True))) if ignore else None
    skeletons: dict[str, list[tuple[tuple[str, ...], list[str]]]] = {}
    for term in buckets["urgent"]:
        phrase = normalise(term.word.rstrip("*")).split()
        if term.language != "km-Latn" or term.word.endswith("*") or len(phrase) < 2:
            continue
        # A word whose skeleton has 3+ letters may be spelled any way with that skeleton; a
        # shorter one must be spelled as listed ("chab" arrest and "chhob" stop share "cp").
        keys = tuple(_skeleton_key(w) for w in phrase)
        if any(not k.startswith("=") for k in keys) and (keys, phrase) not in skeletons.get(keys[0], []):
            skeletons.setdefault(keys[0], []).append((keys, phrase))
    return RuleSet(
        urgent=_Matcher(buckets["urgent"]),
        child=_Matcher(buckets["child"]),
        harm=_Matcher(buckets["harm"]),
        pairs={name: (_Matcher(a), _Matcher(b)) for name, (a, b) in pair_terms.items()},
        past=_Matcher(buckets["past"]),
        now=_Matcher(buckets["now"]),
        high=_Matcher(buckets["high"]),
        still=_Matcher(buckets["still"]),
        lost=_Matcher(buckets["lost"]),
        categories={lang: _Matcher(t) for lang, t in categories.items()},
        populations={lang: _Matcher(t) for lang, t in populations.items()},
        negation={lang: _negation(lang, data.get("negation") or {}) for lang, data in files.items()},
        ignore=ignore_re,
        ignore_keep=ignore_keep,
        words=words,
        typo_words=typo_words,
        typo_deletions=typo_deletions,
        list_words=frozenset(list_words),
        because=_Matcher(because_terms),
        identity=_Matcher(identity_terms),
        topic_words=frozenset(topic_words),
        denied=_Matcher(denied_terms),
        ask=_Matcher(ask_terms),
        undone=_Matcher(undone_terms),
        safe=_Matcher(safe_terms),
        released=_Matcher(released_terms),
        since=_Matcher(since_terms),
        skeletons=skeletons,
        spellings={
            lang: {normalise(k): normalise(v) for k, v in (data.get("spellings") or {}).items()}
            for lang, data in files.items()
            if data.get("spellings")
        },
    )


def rule_words() -> dict[str, set[str]]:
    """Single words of each language's lists (the language detector uses them as evidence)."""
    return ruleset().words


@dataclass
class RuleFindings:
    urgent: list[Hit]
    negated: list[Hit]
    child: list[Hit]
    past: list[Hit]
    now: list[Hit]
    high: list[Hit]
    categories: dict[str, list[Hit]]
    populations: dict[str, list[Hit]]
    question: bool = False
    typos: list[str] = field(
        default_factory=list
    )  # urgent phrases found misspelled by one letter or romanised another way
    pairs: dict[str, list[Hit]] = field(default_factory=dict)  # e.g. imminent: a harm word and a coming day
    # "but", "still", "again": the problem goes on or came back, whatever the thanks say
    still: list[Hit] = field(default_factory=list)
    # "no longer have", "ja nao tenho": what ended is something the person needs (a loss, not a relief)
    lost: list[Hit] = field(default_factory=list)
    # rights-abuse topic words set aside: the message asks, thanks or tells a harm that did not
    # happen, and names no harm (docs/triage.md, "Categories", `other`)
    topics: list[Hit] = field(default_factory=list)
    # "the police did not take him, he is at home": the words saying the person is safe now, when a
    # harm is said not to have happened (docs/triage.md, "Categories", `other`); empty otherwise
    safe: list[Hit] = field(default_factory=list)
    # "released from the police post this morning, he is home now": the release words and the
    # words of being held they end (`_released`); empty otherwise
    released: list[Hit] = field(default_factory=list)
    # the past markers that a "since" opens ("since last week"): being held since then is being
    # held now, so they do not date the words of being held (service._in_the_past)
    lasting: list[Hit] = field(default_factory=list)
    # where phrases end in Khmer script (a space between two Khmer letters): a `past_in_phrase:`
    # marker does not reach past one
    breaks: tuple[int, ...] = ()


def _not_negated(matcher: _Matcher, doc: Doc, text: str, language: str, rules: RuleSet) -> list[Hit]:
    """The matcher's hits in the message that no negation cue (of the hit's language or the
    message's) stands just before."""
    return [h for h in matcher.find(doc) if not _negated(text, h, {h.term.language, language}, rules)]


@lru_cache(maxsize=64)
def _past_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Where the past markers are: a negation cue inside one is part of a date, not a "not"
    (Khmer-Latin `mun` is "not" and also the "last" of `atit mun`, "last week")."""
    return tuple((h.start, h.end) for h in ruleset().past.find(Doc(text)))


def _negated(text: str, hit: Hit, languages: set[str], rules: RuleSet) -> str | None:
    base = max(0, hit.start - 40)
    before = text[base : hit.start]
    # Negation is read in the word's own language and the message's: English "no" is
    # not a negation inside a Portuguese "no bairro".
    for lang in languages:
        negation = rules.negation.get(lang)
        if negation is None:
            continue
        m = negation.regex.search(before)
        if m is None:
            continue
        fill = m.group("fill").split()
        if any(word in negation.breakers for word in fill):
            continue
        if negation.clause_starts and fill:
            # The hit's own first word counts: "n abrir | vai me levar".
            after_cue = [*fill, text[hit.start : hit.end].split(" ", 1)[0]]
            if any(word in negation.clause_starts for word in after_cue[1:]):
                continue
        cue = base + m.start()
        if any(start <= cue < end for start, end in _past_spans(text)):
            continue
        return m.group(0).strip()
    return None


def find(normalised: str, *, language: str, languages: set[str], question: bool = False) -> RuleFindings:
    """Apply the rules to a normalised message. Urgent words of every language are checked
    (a missed urgent report is the worst failure); categories use the given languages.
    `question`: the message had a question mark (normalising drops it)."""
    rules = ruleset()
    keep = rules.ignore_keep
    text = rules.ignore.sub(lambda m: keep.get(m.group(0), " "), normalised) if rules.ignore is not None else normalised
    for lang in languages:
        fold = rules.spellings.get(lang)
        if fold:
            text = " ".join(fold.get(token, token) for token in text.split(" "))
    doc = Doc(text)
    amounts = [
        Hit(Term("any", "category", "financial_hardship/informal_fee", "<amount of money>"), m.start(), m.end())
        for m in _MONEY.finditer(text)
    ]
    urgent: list[Hit] = []
    negated: list[Hit] = []
    for hit in rules.urgent.find(doc):
        hit.negated_by = _negated(text, hit, {hit.term.language, language}, rules)
        (negated if hit.negated_by else urgent).append(hit)
    child: list[Hit] = []
    children = rules.child.find(doc)
    if children:
        harms = _not_negated(rules.harm, doc, text, language, rules)
        if harms:
            child = [children[0], harms[0]]
    pairs: dict[str, list[Hit]] = {}
    for name, (first, second) in rules.pairs.items():
        # A coming day is not what a "not" negates; the harm after it is ("if my mother does not
        # pay by tomorrow they take my brother": the day stands, the threat is read on its own).
        firsts = first.find(doc) if name == "imminent" else _not_negated(first, doc, text, language, rules)
        if firsts:
            seconds = _not_negated(second, doc, text, language, rules)
            gap = NEAR.get(name)
            if gap is not None:
                near = [
                    (a, b)
                    for a in firsts
                    for b in seconds
                    if 0 <= b.start - a.end <= gap or (name in EITHER_ORDER and 0 <= a.start - b.end <= gap)
                ]
                if near:
                    a, b = min(near, key=lambda ab: ab[0].start)
                    pairs.setdefault(REPORTED_AS.get(name, name), [a, b])
            elif seconds:
                pairs.setdefault(REPORTED_AS.get(name, name), [firsts[0], seconds[0]])
    categories: dict[str, list[Hit]] = {}
    populations: dict[str, list[Hit]] = {}
    for lang in languages:
        matcher = rules.categories.get(lang)
        if matcher is not None:
            for hit in matcher.find(doc):
                categories.setdefault(hit.term.group.split("/", 1)[0], []).append(hit)
        matcher = rules.populations.get(lang)
        if matcher is not None:
            for hit in matcher.find(doc):
                populations.setdefault(hit.term.group, []).append(hit)
    reason = _identity_reason(doc, rules)
    if reason is not None:
        categories.setdefault("stigma_discrimination", []).append(reason)
    if amounts:
        # Money demanded by police or authorities is extortion, not a fee.
        police = any(
            h.term.group == "human_rights_violation/police_harassment"
            for h in categories.get("human_rights_violation", [])
        )
        if police:
            categories["human_rights_violation"].append(
                Hit(
                    Term("any", "category", "human_rights_violation/extortion", "<amount of money> + police"),
                    amounts[0].start,
                    amounts[0].end,
                )
            )
        else:
            categories.setdefault("financial_hardship", []).append(amounts[0])
    typos: list[str] = []
    if not urgent and not negated:
        fixed, changed = list(doc.tokens), False
        for i, token in enumerate(doc.tokens):
            if len(token) < TYPO_MIN - 1 or not token.isascii() or token in rules.list_words:
                continue
            word = rules.typo_deletions.get(token)  # a letter left out
            if word is None:  # or one letter too many
                word = next(
                    (
                        token[:k] + token[k + 1 :]
                        for k in range(len(token))
                        if token[:k] + token[k + 1 :] in rules.typo_words
                    ),
                    None,
                )
            if word is not None:
                fixed[i], changed = word, True
        if rules.skeletons:  # a Khmer-Latin urgent phrase in another romanisation ("ot dung kluen")
            skels = [skeleton(t) if t.isascii() and t.isalpha() else "" for t in fixed]
            for i in range(len(fixed)):
                for phrase_keys, phrase in [
                    *rules.skeletons.get(skels[i], ()),
                    *rules.skeletons.get("=" + fixed[i], ()),
                ]:
                    end = i + len(phrase_keys)
                    if (
                        end <= len(fixed)
                        and fixed[i:end] != phrase
                        and all(
                            fixed[j] == k[1:] if k.startswith("=") else skels[j] == k
                            for j, k in zip(range(i, end), phrase_keys)
                        )
                    ):
                        fixed[i:end], changed = phrase, True
                        break
        if changed:  # only a correction that completes an urgent phrase counts
            corrected = " ".join(fixed)
            typos = [
                h.term.word
                for h in rules.urgent.find(Doc(corrected))
                if not _negated(corrected, h, {h.term.language, language}, rules)
            ]
    lost = rules.lost.find(doc)
    # A loss inside a longer phrase saying the problem is over is that phrase: "no money" of
    # "released, no money paid" is not a loss.
    over = [h for h in categories.get("other", []) if h.term.group == "other/resolved"]
    lost = [
        h
        for h in lost
        if not any(o.start <= h.start and h.end <= o.end and o.end - o.start > h.end - h.start for o in over)
    ]
    if lost and "other" in categories:
        # "no longer have money", "ja nao tenho": the word saying something ended names a loss
        categories["other"] = [h for h in categories["other"] if h.term.group != "other/resolved"]
        if not categories["other"]:
            del categories["other"]
    still = rules.still.find(doc)
    in_progress = bool(urgent or child or pairs or typos)
    # Released and safe now: being held is over. Only the urgency decision reads it (it sets the
    # words of being held aside, service._decide); the findings and so the model's features stay
    # as they are. Any other urgent word (bleeding, a threat) still makes the message urgent.
    release = _released(doc, text, language, rules, still=still)
    released: list[Hit] = []
    if release:
        other_urgent, other_pairs, held = held_apart(urgent, pairs)
        if not (other_urgent or child or other_pairs or typos):
            released = [*release, *held]
    safe, undone = _safe_now(doc, text, language, rules, still=still, negated=negated, urgent=in_progress)
    # a verb read only negated that an urgent word already covers ("did not beat me") is not said twice
    negated = [*negated, *(u for u in undone if not any(n.start <= u.start < n.end for n in negated))]
    topics = _topics_only(
        doc,
        categories,
        rules,
        still=still,
        question=question,
        negated=bool(negated),
        urgent=in_progress,
        safe=bool(safe),
    )
    if topics:
        del categories[RIGHTS]
    past = rules.past.find(doc)
    return RuleFindings(
        question=question,
        topics=topics,
        safe=safe,
        typos=typos,
        pairs=pairs,
        urgent=urgent,
        negated=negated,
        released=released,
        child=child,
        past=past,
        lasting=_lasting(doc, past, rules),
        breaks=tuple(m.start() for m in _KHMER_BREAK.finditer(text))
        if any(p.term.group == IN_PHRASE for p in past)
        else (),
        now=rules.now.find(doc),
        high=rules.high.find(doc),
        still=still,
        lost=lost,
        categories=categories,
        populations=populations,
    )


def _topics_only(
    doc: Doc,
    categories: dict[str, list[Hit]],
    rules: RuleSet,
    *,
    still: list[Hit],
    question: bool,
    negated: bool,
    urgent: bool,
    safe: bool = False,
) -> list[Hit]:
    """The rights-abuse words found, when they are all topic words and the message asks (a
    question mark or an `ask:` phrase), thanks (and no "but"/"still" says a problem goes on) or
    tells a harm that did not happen (an urgent word negated): "how does a widow claim
    compensation from the mine?", "the police did not take him, he is at home". Empty
    otherwise: any harm word of the list (negated or not: "did not arrest him but kept his ID"),
    a denial ("never paid", `recusaram`, `មិនបង់`) or an urgent word keeps them. `safe`: the
    harm did not happen and the person is safe now (`_safe_now`): then harm words are set aside
    too ("the police did not arrest him, he is home")."""
    hits = categories.get(RIGHTS)
    if not hits or urgent:
        return []
    if rules.denied is not None and rules.denied.find(doc):
        return []
    if safe:
        return hits
    if any((h.term.language, h.term.word) not in rules.topic_words for h in hits):
        return []
    asks = question or bool(rules.ask is not None and rules.ask.find(doc))
    thanks = any(h.term.group == "other/compliment" for h in categories.get("other", [])) and not still
    return hits if asks or thanks or negated else []


def _safe_now(
    doc: Doc, text: str, language: str, rules: RuleSet, *, still: list[Hit], negated: list[Hit], urgent: bool
) -> tuple[list[Hit], list[Hit]]:
    """A harm said not to have happened, with the person safe now: "the police did not take him,
    he is at home", `nao levaram ela, ta em casa`, `ot ban chab kat te, kat nov pteah`. Returns the
    words saying the person is safe (`safe:`) and the negated verbs of taking or hurting (`harm:`,
    read only when negated; they then count as negated urgent words: the model may not make the
    message urgent). Both empty unless: an urgent word or a `harm:` verb is negated, a `safe:`
    phrase follows it and is not negated itself, nothing urgent is in the present, and no
    "but"/"still" comes after the safe words ("he is home, but they kept his ID")."""
    if urgent or rules.safe is None or rules.undone is None:
        return [], []
    undone = []
    for hit in rules.undone.find(doc):
        hit.negated_by = _negated(text, hit, {hit.term.language, language}, rules)
        if hit.negated_by:
            undone.append(hit)
    first_harm = min((h.start for h in [*negated, *undone]), default=None)
    if first_harm is None:
        return [], []
    # The harm's own negation may reach the safe words ("did not arrest anyone, everyone is fine"):
    # it negates the harm, not them. Another cue does ("he is not at home").
    harm_words = {text[h.start : h.end] for h in [*negated, *undone]}

    def negates_safe(hit: Hit) -> bool:
        cue = _negated(text, hit, {hit.term.language, language}, rules)
        return cue is not None and not harm_words.intersection(cue.split())

    safe = sorted(
        (h for h in rules.safe.find(doc) if h.start > first_harm and not negates_safe(h)), key=lambda h: h.start
    )
    if not safe or any(s.start >= safe[0].start for s in still):
        return [], []
    return safe, undone


def held_apart(urgent: list[Hit], pairs: dict[str, list[Hit]]) -> tuple[list[Hit], dict[str, list[Hit]], list[Hit]]:
    """What a release sets aside: the urgent words and pairs that do not say someone is held, and
    the hits that do (`detained_now`, the `held` and `taken` pairs)."""
    kept = [h for h in urgent if h.term.group != "detained_now"]
    kept_pairs = {name: hits for name, hits in pairs.items() if name not in HELD_PAIRS}
    held = [h for h in urgent if h.term.group == "detained_now"]
    held += [h for name, hits in pairs.items() if name in HELD_PAIRS for h in hits]
    return kept, kept_pairs, held


def _released(doc: Doc, text: str, language: str, rules: RuleSet, *, still: list[Hit]) -> list[Hit]:
    """A release with the person safe now: "released from the police post this morning, he is
    home now, thanks", `soltaram o Dinho, ja ta em casa`, `dohleng haey, nov pteah`. Returns the
    release words (`released:` in `safe_now:`), or nothing unless: a release word is there and not
    negated ("not yet released" is still held), a `safe:` phrase other than the release word itself
    is there and not negated, and no "but"/"still"/"again" comes after the first of them ("released,
    but they arrested his brother")."""
    if rules.released is None or rules.safe is None:
        return []
    release = _not_negated(rules.released, doc, text, language, rules)
    if not release:
        return []
    safe = [
        h
        for h in _not_negated(rules.safe, doc, text, language, rules)
        if all(h.end <= r.start or h.start >= r.end for r in release)
    ]
    if not safe:
        return []
    first = min(h.start for h in [*release, *safe])
    if any(s.start >= first for s in still):
        return []
    return release


SINCE_GAP = 3  # at most this many characters between "since" and the past marker it opens


def _lasting(doc: Doc, past: list[Hit], rules: RuleSet) -> list[Hit]:
    """The past markers right after a "since" word ("since last week", `tang pi atit mun`, `desde a
    semana passada`, `តាំងពីសប្តាហ៍មុន`): a state that began then and goes on."""
    if not past or rules.since is None:
        return []
    since = rules.since.find(doc)
    return [p for p in past if any(0 <= p.start - s.end <= SINCE_GAP for s in since)]


def _skeleton_key(word: str) -> str:
    """How a phrase word is compared: by its skeleton when it has SKELETON_MIN letters, else "=word"."""
    key = skeleton(word) if word.isascii() and word.isalpha() else ""
    return key if len(key) >= SKELETON_MIN else "=" + word


def _identity_reason(doc: Doc, rules: RuleSet) -> Hit | None:
    """A reason word ("because", "porque", "ព្រោះ", "pruos") with an identity word ("trans",
    "seropositiva", "ខ្ទើយ", "chak thnam") close after it: treated worse for who one is."""
    if rules.because is None or rules.identity is None:
        return None
    cues = rules.because.find(doc)
    if not cues:
        return None
    ids = rules.identity.find(doc)
    for cue in cues:
        for ident in ids:
            if 0 <= ident.start - cue.end <= IDENTITY_GAP:
                word = f"<{cue.term.word} + {ident.term.word}>"
                return Hit(Term(cue.term.language, "category", IDENTITY_REASON, word), cue.start, ident.end)
    return None


FEATURE_NAMES = (
    *(
        f"category:{c}"
        for c in ("service_quality", "stigma_discrimination", "financial_hardship", "human_rights_violation", "other")
    ),
    *(f"urgent:{g}" for g in (*URGENT_GROUPS, "child_at_risk", *FEATURE_PAIRS)),
    "negated",
    "past",
    "now",
    "high",
    "question",
)


def features(found: RuleFindings) -> list[float]:
    """The rule findings as numbers the model can weigh (it learns how far to trust each list)."""
    cats = [
        min(len({h.term.word for h in found.categories.get(c, [])}), 3) / 3.0
        for c in ("service_quality", "stigma_discrimination", "financial_hardship", "human_rights_violation", "other")
    ]
    groups = {h.term.group for h in found.urgent}
    urgent = (
        [1.0 if g in groups else 0.0 for g in URGENT_GROUPS]
        + [1.0 if found.child else 0.0]
        + [1.0 if any(n in found.pairs for n in names) else 0.0 for names in FEATURE_PAIRS.values()]
    )
    return [
        *cats,
        *urgent,
        float(bool(found.negated)),
        float(bool(found.past)),
        float(bool(found.now)),
        float(bool(found.high)),
        float(found.question),
    ]
