"""Triage a report: transparent rules first, the statistical model second, reasons always.

`classify(text)` is pure (no database); `apply_triage(session, report, text)` stores the
result on the report, assigns a cluster and moves the case from received to triaged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

from sqlmodel import Session, col, select

from service.reports import codes as report_codes, fees
from service.kit.models import require_id
from service.reports.models import CATEGORIES, URGENCIES, Report, ReportEvent
from service.reports.service import add_event, change_status
from service.triage import amounts, codes
from service.triage import language as lang_mod
from service.triage import reading
from service.triage import rules as rules_mod
from service.triage.cluster import assign_cluster
from service.triage.model import EMBED_CHARS, Example, get_model, load_cached

log = logging.getLogger(__name__)
MAX_CHARS = 20_000  # longer texts are triaged on their first MAX_CHARS characters
# The model alone makes a report urgent from this probability; lower means more false alarms.
MODEL_URGENT = 0.2
MODEL_HIGH = 0.5
PAST_ATTACHED = 20  # a past marker this close (in characters) to an urgent word dates it
PAST_AFTER = 40  # a past marker further than this after an urgent word does not date it
RULE_WEIGHT = 0.3  # each lexicon word (up to 3) adds this to the model's category probability
RIGHTS = "human_rights_violation"
# Rights-abuse sub-categories that money never outranks: in the labelled messages a confiscation
# or a forced test came with money words many times and was never labelled a money problem.
TAKING_OR_TESTING = {f"{RIGHTS}/confiscation", f"{RIGHTS}/forced_testing"}
PAIR_EFFECT = {
    "imminent": "harm announced for a coming day",
    "taken": "someone forced into a vehicle",
    "held": "someone held or shut in a place",
    "fire": "a home on fire",
}
_RANK = {u: i for i, u in enumerate(reversed(URGENCIES))}  # normal 0, high 1, urgent 2
# When a report names several populations, the first of these wins, however many words each has
# (docs/triage.md, "Population"): who the person is and which organisation can act for them come
# before the health condition every group shares. A miner with TB is a miner.
POPULATION_PRECEDENCE = ("miner", "people_who_use_drugs", "sex_worker", "transgender", "msm", "plhiv", "tb")


@dataclass
class TriageResult:
    category: str
    urgency: str
    confidence: float
    language: str
    secondary_category: str | None = None
    subcategory: str | None = None
    population: str | None = None
    reasons: list[dict] = field(default_factory=list)
    subcategories: dict[str, str] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("subcategories")
        return data


def _words(hits: list[rules_mod.Hit]) -> list[str]:
    return sorted({h.term.word for h in hits})


def _by_group(hits: list[rules_mod.Hit]) -> dict[str, list[rules_mod.Hit]]:
    groups: dict[str, list[rules_mod.Hit]] = {}
    for hit in hits:
        groups.setdefault(hit.term.group, []).append(hit)
    return groups


def _in_the_past(
    hits: list[rules_mod.Hit],
    past: list[rules_mod.Hit],
    present: list[rules_mod.Hit],
    still: Sequence[rules_mod.Hit] = (),
    breaks: Sequence[int] = (),
) -> bool:
    """True when every urgent word sits nearer a past marker ("last year") than a present
    one ("now", "tonight"): "arrested last year, now I want to complain" is past. A "but",
    "again" or "still" between a past marker and the word ends the marker's reach: "thanks
    for last month's case, but police came again and took three men" is not the past."""
    if not hits or not past:
        return False

    def cut(marker: rules_mod.Hit, hit: rules_mod.Hit) -> bool:
        if marker.term.group == rules_mod.IN_PHRASE:
            # "used to" (ធ្លាប់) dates its own phrase only: "my father used to work in the mine ·
            # collapsed at home" (a space between them in Khmer script) is a collapse now
            low, high = min(marker.end, hit.end), max(marker.start, hit.start)
            if any(low <= b < high for b in breaks):
                return True
        return marker.end <= hit.start and any(marker.end <= s.start and s.end <= hit.start for s in still)

    def distance(hit: rules_mod.Hit, markers: list[rules_mod.Hit]) -> float:
        # A past marker well after the word belongs to a later sentence ("overdosed, lips blue
        # ... they told us last month the naloxone ran out"): it dates the word only when close.
        return min(
            (
                max(m.start - hit.end, hit.start - m.end, 0)
                for m in markers
                if m.start - hit.end <= PAST_AFTER and not cut(m, hit)
            ),
            default=float("inf"),
        )

    return all(distance(h, past) <= PAST_ATTACHED or distance(h, past) < distance(h, present) for h in hits)


def _all_in_the_past(found: rules_mod.RuleFindings) -> bool:
    """Every urgent word, pair and child at risk dated in the past (`_in_the_past`). Being held
    is dated only by a past marker that no "since" opens: "arrested last week" is past, "locked in
    the centre since last week, they won't let him out" is now (`found.lasting`). A cough "since
    last month" stays dated: a state of health that began then is not an emergency for it."""
    # A harm announced for a coming day carries its own date: "the agent who caught me last week
    # texted that he comes tonight and will take me" is tonight, whatever came before it.
    if found.pairs.get("imminent"):
        return False
    # a pair is dated by its first word, as before; held_apart splits what says someone is held
    kept, kept_pairs, held = rules_mod.held_apart(found.urgent, {n: hits[:1] for n, hits in found.pairs.items()})
    rest = [*kept, *found.child, *(hits[0] for hits in kept_pairs.values())]
    if not held and not rest:
        return False
    ongoing = [p for p in found.past if all(p is not q for q in found.lasting)]
    return (not held or _in_the_past(held, ongoing, found.now, found.still, found.breaks)) and (
        not rest or _in_the_past(rest, found.past, found.now, found.still, found.breaks)
    )


def _harm_told(found: rules_mod.RuleFindings) -> bool:
    """A rights-abuse word that names a harm or a denial ("arrested", "confiscated"), not only a
    subject (`topic:` words: "police", "the mine", "an ex-miner"). The topic filter does not run on
    an urgent message, so its topic words can still be here: "my father, an ex-miner, collapsed,
    what do I do?" tells an emergency, not a rights abuse."""
    topic = rules_mod.ruleset().topic_words
    return any((h.term.language, h.term.word) not in topic for h in found.categories.get(RIGHTS, []))


def _over(found: rules_mod.RuleFindings) -> list[str] | None:
    """The words of thanks and of a problem that is over, when nothing says it goes on: no
    "but"/"still"/"again" after the first word saying it is over. (A loss, "no longer have",
    is not a problem over: the rules drop its "no longer" from the `other` words.)"""
    other = found.categories.get("other", [])
    resolved = [h for h in other if h.term.group == "other/resolved"]
    first = min(h.start for h in resolved)
    if any(h.start >= first for h in found.still):
        return None
    return _words([h for h in other if h.term.group in ("other/resolved", "other/compliment")])


def warm(*, train: bool = True) -> None:
    """Load the rules and the model now (call at process start-up, so the first report does not wait).

    `train=False` (the web process): load the model only if the worker has cached a current one;
    never train here. Without one the web process starts with the rules; its rare triage (a sender
    over the hourly limit) loads, or trains, the model on first use."""
    rules_mod.ruleset()
    lang_mod.detect("warm up")
    if train:
        get_model()
    elif load_cached() is None:
        log.info("triage model not cached yet: the worker trains it")
        return
    classify_many(["warm up"])  # and the sentence embedder, when the model uses one


def warm_in_background(*, train: bool = True) -> threading.Thread:
    """warm() in a daemon thread (a failure is logged; the first classify tries again)."""

    def run() -> None:
        try:
            warm(train=train)
        except Exception:  # never fatal: classify() loads (or trains) on first use
            log.exception("triage warm-up failed")

    thread = threading.Thread(target=run, name="triage-warm", daemon=True)
    thread.start()
    return thread


def classify(text: str) -> TriageResult:
    """Category, urgency, language, population and reasons for one message."""
    return classify_many([text])[0]


def classify_many(texts: list[str]) -> list[TriageResult]:
    """classify() for a batch: the model scores all texts in one call."""
    texts = [(text or "")[:MAX_CHARS] for text in texts]
    prepared = [reading.analyse(text) for text in texts]
    scores = (
        get_model().scores(
            [p[0] for p in prepared],
            [rules_mod.features(p[2]) for p in prepared],
            [text[:EMBED_CHARS] for text in texts],
        )
        if prepared
        else []
    )
    return [_decide(n, d, f, cat, urg) for (n, d, f), (cat, urg) in zip(prepared, scores)]


def _decide(
    normalised: str,
    detected: lang_mod.Detected,
    found: rules_mod.RuleFindings,
    model_cat: dict[str, float],
    model_urg: dict[str, float],
) -> TriageResult:
    reasons: list[dict] = [{"kind": "language", "language": detected.language, "score": detected.confidence}]
    if found.released:  # released and safe now: the words of being held no longer make it urgent
        urgent, pairs, _ = rules_mod.held_apart(found.urgent, found.pairs)
        found = replace(found, urgent=urgent, pairs=pairs)

    # Urgency: rules first (with negation and past-vs-now), the model as a second voice.
    level, veto = "normal", False
    past_only = _all_in_the_past(found)
    for group, hits in _by_group(found.urgent).items():
        reasons.append(
            {
                "kind": "rule",
                "rule": f"urgent/{group}",
                "words": _words(hits),
                "languages": sorted({h.term.language for h in hits}),
            }
        )
    if found.child:
        reasons.append({"kind": "rule", "rule": "urgent/child_at_risk", "words": _words(found.child)})
    for name, hits in found.pairs.items():
        reasons.append({"kind": "rule", "rule": f"urgent/{name}", "words": _words(hits), "effect": PAIR_EFFECT[name]})
    if found.urgent or found.child or found.pairs:
        if past_only:
            level, veto = "high", True
            reasons.append(
                {
                    "kind": "past",
                    "rule": "past",
                    "words": _words(found.past),
                    "effect": "urgent words describe the past: high, not urgent",
                }
            )
        else:
            level = "urgent"
    elif found.negated:
        veto = True
        suicidal = any(h.term.group == "suicide" for h in found.negated)
        level = "high" if suicidal else "normal"
        reasons.append(
            {
                "kind": "negated",
                "rule": "negation",
                "words": _words(found.negated),
                "cues": sorted({h.negated_by or "" for h in found.negated}),
                "effect": "negated: not urgent" + (" (suicide words: high)" if suicidal else ""),
            }
        )
    if found.released and level != "urgent":
        veto = True
        reasons.append(
            {
                "kind": "released",
                "rule": "released",
                "words": _words(found.released),
                "effect": "released and safe now: not urgent",
            }
        )
    if found.high:
        for group, hits in _by_group(found.high).items():
            reasons.append({"kind": "rule", "rule": f"high/{group}", "words": _words(hits)})
        if level == "normal":
            level = "high"
    p_urgent, p_high = model_urg.get("urgent", 0.0), model_urg.get("high", 0.0)
    model_level = "urgent" if p_urgent >= MODEL_URGENT else ("high" if p_high + p_urgent >= MODEL_HIGH else "normal")
    if found.typos and level != "urgent" and not veto:
        level = "urgent"
        reasons.append(
            {
                "kind": "rule",
                "rule": "urgent/misspelled",
                "words": sorted(set(found.typos)),
                "effect": "an urgent phrase with a word misspelled by one letter or, in Khmer-Latin, "
                "romanised another way",
            }
        )
    if veto and model_level == "urgent":
        model_level = "high"
    if _RANK[model_level] > _RANK[level]:
        level = model_level
        reasons.append(
            {
                "kind": "model",
                "rule": "model/urgency",
                "urgency": model_level,
                "score": round(p_urgent if model_level == "urgent" else p_high + p_urgent, 3),
            }
        )

    # Category: the model's probability plus a bonus per lexicon word.
    combined = {}
    # Greetings and thanks wrap real complaints ("hello, no ARV since May, thanks"): the
    # words for `other` count only when no other category has words of its own.
    # A question ("where can I get free condoms?") keeps them.
    # So does thanks for an outcome ("the police no longer take our condoms, thank you"):
    # a compliment word and a word saying the problem is over, both in the message; then
    # the other categories' words (police, condoms) name what is over and add nothing.
    other_groups = {h.term.group for h in found.categories.get("other", [])}
    thanks_for_outcome = {"other/compliment", "other/resolved"} <= other_groups
    # An urgent word in the present, or a loss ("no longer give us ARV"), is a problem,
    # whatever thanks come with it.
    substantive = (
        (any(c != "other" and hits for c, hits in found.categories.items()) or level == "urgent" or found.lost)
        and not found.question
        and not thanks_for_outcome
    )
    # Thanks for a problem that is over decides the category: the model has read the named
    # police, fee or clinic in many complaints and would call it one. Not when, after the
    # word saying it is over, a word says it goes on ("but", "again"), when what ended is
    # something the person needs ("no longer have money"), or when an urgent word is present.
    over = _over(found) if thanks_for_outcome and level != "urgent" else None
    for cat in CATEGORIES:
        hits = [] if cat == "other" and substantive else found.categories.get(cat, [])
        if thanks_for_outcome and cat != "other":
            hits = []  # their words name what is over: the model alone weighs them
        combined[cat] = model_cat.get(cat, 0.0) + RULE_WEIGHT * min(len({h.term.word for h in hits}), 3)
    ranked = sorted(CATEGORIES, key=lambda c: -combined[c])
    if ranked[0] == "other" and over is None and found.question and _harm_told(found):
        # A question that tells a harm or a denial (the rights-abuse words the topic filter kept:
        # "police arrested my brother last month, what are his rights?") is that complaint; a
        # question is `other` only until it says something was done or denied (docs/triage.md).
        ranked.remove(RIGHTS)
        ranked.insert(0, RIGHTS)
    if ranked[0] == "financial_hardship" and any(
        h.term.group in TAKING_OR_TESTING for h in found.categories.get(RIGHTS, [])
    ):
        # Papers, medicines or condoms taken, or a test forced, are a rights abuse whatever money
        # they come with ("the owner keeps her ID until she pays the $600 debt"): the first
        # question of the definitions (docs/triage.md, "Categories") is answered before money.
        ranked.remove(RIGHTS)
        ranked.insert(0, RIGHTS)
    if over is not None:
        ranked.remove("other")
        ranked.insert(0, "other")
        reasons.append(
            {
                "kind": "rule",
                "rule": "category/thanks_for_outcome",
                "words": over,
                "effect": "thanks for a problem that is over: other",
            }
        )
    if found.topics:
        reasons.append(
            {
                "kind": "rule",
                "rule": "category/topic_only",
                "words": _words(found.topics),
                "effect": "rights-abuse topic words only, in a question, a thank-you or a negated harm: not counted",
            }
        )
    primary = ranked[0]
    total = sum(combined.values()) or 1.0
    confidence = round(combined[primary] / total, 3)
    secondary = None
    for cat in ranked[1:]:
        has_words = bool(found.categories.get(cat))
        if cat != "other" and ((has_words and model_cat.get(cat, 0) >= 0.1) or model_cat.get(cat, 0) >= 0.3):
            secondary = cat
            break
    subcategories: dict[str, str] = {}
    for cat, hits in found.categories.items():
        groups = _by_group(hits)
        best = max(groups, key=lambda g: (len(groups[g]), -min(h.start for h in groups[g])))
        subcategories[cat] = best
        reasons.append({"kind": "rule", "rule": f"category/{cat}", "subcategory": best, "words": _words(hits)})
    reasons.append(
        {
            "kind": "model",
            "rule": "model/category",
            "category": max(model_cat, key=model_cat.__getitem__),
            "scores": {c: round(p, 3) for c, p in model_cat.items()},
            "urgent_score": round(p_urgent, 3),
        }
    )

    population = None
    named = [p for p in POPULATION_PRECEDENCE if found.populations.get(p)]
    named += sorted(p for p in found.populations if p not in POPULATION_PRECEDENCE and found.populations[p])
    if named:
        population = named[0]
        reasons.append(
            {
                "kind": "rule",
                "rule": f"population/{population}",
                "words": _words(found.populations[population]),
                "also": named[1:],
            }
        )
    return TriageResult(
        category=primary,
        urgency=level,
        confidence=confidence,
        language=detected.language,
        secondary_category=secondary,
        subcategory=subcategories.get(primary),
        population=population,
        reasons=reasons,
        subcategories=subcategories,
    )


def apply_triage(session: Session, report: Report, text: str, *, result: TriageResult | None = None) -> TriageResult:
    """Triage a report's text and store the result; received → triaged. Does not commit.

    A category the reporter or a handler chose is kept (triage then names its own
    choice as the secondary one); urgency is never lowered automatically, except an urgency that
    the quick screen alone gave (the full reading then decides). `result`: the
    `classify(text)` already computed (the worker classifies a batch at once).
    """
    result = result if result is not None else classify(text)
    was_provisional = report.triage_language is not None and report.triage_confidence is None
    chosen = report.category_source in ("reporter", "handler") and report.category in CATEGORIES
    if chosen:
        category = report.category
        secondary = result.category if result.category != category else result.secondary_category
    else:
        category, secondary = result.category, result.secondary_category
        report.category, report.category_source = category, "triage"
    report.secondary_category = secondary if secondary != category else None
    report.subcategory = result.subcategories.get(category) if category is not None else None
    screened = was_provisional and any(r.get("rule") == "provisional/screen" for r in report.triage_reasons or [])
    if report.category_source != "handler" and _RANK[result.urgency] > _RANK.get(report.urgency, 0):
        report.urgency = result.urgency
    lowered = screened and report.category_source != "handler" and result.urgency != "urgent"
    if lowered:
        # Only the quick screen read it as urgent (its alert went out); the full reading decides.
        report.urgency = result.urgency
    report.triage_confidence = result.confidence
    report.triage_language = result.language
    if result.population is not None and report.category_source != "handler":  # a handler's choice stays
        report.population = result.population
    report.triage_reasons = result.reasons
    if lowered:
        report.triage_reasons = [
            *result.reasons,
            {
                "kind": "provisional",
                "rule": "provisional/screen_lowered",
                "urgency": result.urgency,
                "effect": "urgent by the quick screen and alerted; the full triage reads "
                f"{result.urgency}: lowered to it (the alert stays sent)",
            },
        ]
    elif was_provisional and report.urgency == "urgent" and result.urgency != "urgent":
        # The quick word-list step alerted on this case; the full reading says less. The alert
        # stays sent and the urgency stays (never lowered); the reasons say both (docs/triage.md).
        report.triage_reasons = [
            *result.reasons,
            {
                "kind": "provisional",
                "rule": "provisional/kept_urgent",
                "urgency": result.urgency,
                "effect": "urgent by the quick word-list step and alerted; the full triage reads "
                f"{result.urgency}: kept urgent until a handler decides",
            },
        ]
    session.add(report)
    session.flush()
    add_event(
        session,
        report,
        "triage",
        actor="triage",
        detail={
            "category": result.category,
            "urgency": result.urgency,
            "confidence": result.confidence,
            "language": result.language,
        },
    )
    suggest_fee(session, report, text)
    suggest_codes(session, report, text)
    assign_cluster(session, report)
    if report.status == "received":
        change_status(session, report, "triaged", actor="triage")
    return result


FEE_CATEGORY = "financial_hardship"


def suggest_fee(session: Session, report: Report, text: str, *, actor: str = "triage") -> amounts.Amount | None:
    """On a financial-hardship report, the first amount of money its text names, stored as the
    suggested fee with its reasons (source "extracted"). An amount the reporter or a handler gave
    stays; a report of another category gets none (docs/triage.md, "Amounts of money")."""
    if report.category != FEE_CATEGORY or report.fee_source in ("reporter", "handler"):
        return None
    found = amounts.extract(text)
    if found is None:
        return None
    fees.set_fee(
        session,
        report,
        cents=found.cents,
        currency=found.currency,
        source="extracted",
        actor=actor,
        reasons=found.reasons(),
    )
    return found


CODES_CATEGORY = "human_rights_violation"


def suggest_codes(session: Session, report: Report, text: str, *, actor: str = "triage") -> codes.Suggestion | None:
    """On a human-rights-violation report (its category or its second category), the perpetrator and
    violation types its words point to, stored as suggestions (source "triage") with their reasons. A
    code a handler set (even to none) stays; a code nothing in the text points to is left as it is;
    a report of another category gets none (docs/triage.md, "Documentation codes")."""
    if CODES_CATEGORY not in (report.category, report.secondary_category):
        return None
    found = codes.suggest(text)
    if not found.reasons:
        return None
    unchanged = report_codes.UNCHANGED
    report_codes.set_codes(
        session,
        report,
        source="triage",
        actor=actor,
        reasons=found.reasons,
        perpetrator_type=found.perpetrator_type or unchanged,
        violation_type=found.violation_type or unchanged,
    )
    return found


def report_fields(result: TriageResult) -> dict[str, object]:
    """Columns for a brand-new report triaged at arrival (the intake's Core insert); status triaged."""
    return {
        "category": result.category,
        "category_source": "triage",
        "subcategory": result.subcategories.get(result.category),
        "secondary_category": result.secondary_category if result.secondary_category != result.category else None,
        "urgency": result.urgency,
        "triage_confidence": result.confidence,
        "triage_language": result.language,
        "population": result.population,
        "triage_reasons": result.reasons,
        "status": "triaged",
    }


def report_events(result: TriageResult) -> list[tuple[str, str, dict]]:
    """The timeline entries `apply_triage` would add, for a report triaged at arrival."""
    return [
        (
            "triage",
            "triage",
            {
                "category": result.category,
                "urgency": result.urgency,
                "confidence": result.confidence,
                "language": result.language,
            },
        ),
        ("status", "triage", {"from": "received", "to": "triaged"}),
    ]


def corrections(session: Session) -> list[Example]:
    """Handlers' corrections (latest per report) as training examples, on the masked narrative."""
    rows = session.exec(
        select(ReportEvent, Report)
        .where(ReportEvent.kind == "triage_corrected", ReportEvent.report_id == Report.id)
        .order_by(col(ReportEvent.id))
    ).all()
    latest: dict[int, tuple[ReportEvent, Report]] = {}
    for event, report in rows:
        latest[require_id(report)] = (event, report)
    examples = []
    for event, report in latest.values():
        to = (event.detail or {}).get("to") or {}
        category = to.get("category") or report.category
        urgency = to.get("urgency") or report.urgency
        text = report.narrative_masked or ""
        if text.strip() and category in CATEGORIES and urgency in URGENCIES:
            examples.append(
                Example(
                    text=text,
                    category=category,
                    urgency=urgency,
                    language=report.triage_language or "",
                    source="correction",
                )
            )
    return examples
