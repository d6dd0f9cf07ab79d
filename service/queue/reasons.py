"""Triage's reasons as sentences a handler reads ("Urgent: 'threaten…' — a threat of harm").

Triage (service/triage/service.py, `_decide`) stores each reason as a small dict in
`report.triage_reasons`; routing adds none of its own. The case page shows one sentence per
reason in the page's language, built here from gettext msgids (service/locale). Kinds:

* `language` — the detected language and its score;
* `rule` with `urgent/<group>` (violence, threat, detained_now, medical_emergency, suicide,
  child_at_risk, imminent, taken, misspelled), `high/<group>` (rights, treatment_interrupted),
  `category/<category>` and `population/<population>` — the lexicon words that matched;
  `category/thanks_for_outcome` — thanks for a problem that is over decided `other`;
  `category/topic_only` — rights-abuse topic words (police, the mine, compensation) not counted
  in a question, a thank-you or a harm that did not happen;
* `past` — urgent words that describe the past (high, not urgent);
* `negated` — urgent words that were negated ("not beaten");
* `model` with `model/urgency` or `model/category` — the model's choice and its probability;
* `provisional` — the worker's quick word-list reading (`provisional/rules_only`), an urgency
  kept after the full triage read less (`provisional/kept_urgent`), an urgency the quick screen
  gave (`provisional/screen`) and one the full triage then lowered (`provisional/screen_lowered`;
  docs/triage.md).

A reason of a kind not known here (an older report, a future triage) still gets a sentence: its
`text` or `reason` if it has one, else its rule name and words — never raw JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from service.kit.i18n import N_, gettext
from service.reports.codes import PERPETRATOR_LABELS, VIOLATION_LABELS

URGENT_GROUPS = {
    "violence": N_("violence happening now"),
    "threat": N_("a threat of harm"),
    "detained_now": N_("someone detained now"),
    "medical_emergency": N_("a medical emergency"),
    "suicide": N_("thoughts of suicide"),
    "child_at_risk": N_("a child at risk"),
    "imminent": N_("harm announced for a coming day"),
    "taken": N_("someone forced into a vehicle"),
    "held": N_("someone held or shut in a place"),
    "fire": N_("a home on fire"),
    "misspelled": N_("an urgent phrase with one word misspelled"),
}
HIGH_GROUPS = {
    "rights": N_("a rights abuse"),
    "treatment_interrupted": N_("treatment interrupted"),
}
LANGUAGE_NAMES = {
    "en": N_("English"),
    "km": N_("Khmer"),
    "km-Latn": N_("Khmer in Latin letters"),
    "pt": N_("Portuguese"),
}
CATEGORY_KEYS = ("service_quality", "stigma_discrimination", "financial_hardship", "human_rights_violation", "other")
POPULATION_KEYS = ("msm", "transgender", "sex_worker", "people_who_use_drugs", "plhiv", "tb", "miner", "general")

TEXTS = [
    N_("Language: {name}, {score} %"),
    N_("Urgent: {words} — {meaning}"),
    N_("Serious: {words} — {meaning}"),
    N_("Not urgent: {words} — the urgent words describe the past"),
    N_("Not urgent: {words} — the urgent words are negated"),
    N_("Not urgent: {words} — negated (words about suicide: high)"),
    N_("Model: {urgency}, {score} %"),
    N_("Model: {category}, {score} %"),
    N_("Category words: {words} — {category}"),
    N_("Population words: {words} — {population}"),
    N_("Rule {rule}: {words}"),
    N_("Provisional: word lists only, before the model; the full triage refines it"),
    N_("Kept urgent: urgent by the word lists and alerted; the full triage reads {urgency}"),
    N_("Urgent by the quick screen ({score} %): alerted before the full triage, which confirms or lowers it"),
    N_("Lowered to {urgency}: the quick screen read it as urgent and alerted; the full triage reads {urgency}"),
    N_("Thanks for a problem that is over: {words} — {category}"),
    N_("Topic words only, no harm told (a question, thanks or a harm that did not happen): {words} — not counted"),
    N_("Not urgent: {words} — released and safe now"),
]


_KHMER_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")


def _percent(value: Any, lang: str) -> str:
    """A probability as a whole percentage, in Khmer digits on a Khmer page (no mixed digits in one sentence)."""
    try:
        shown = f"{float(value) * 100:.0f}"
    except (TypeError, ValueError):
        return "–"
    return shown.translate(_KHMER_DIGITS) if lang == "km" else shown


def _words(reason: dict) -> str:
    """The matched lexicon words, quoted; a wildcard (threaten*) shows as an ellipsis (threaten…)."""
    words = reason.get("words") or []
    if not isinstance(words, list):
        words = [words]
    shown = [f"‘{str(w).replace('*', '…')}’" for w in words[:6] if str(w)]
    return ", ".join(shown) + (" …" if len(words) > 6 else "") if shown else "–"


def sentence(reason: Any, lang: str) -> str:
    """One reason as a sentence in `lang` (en, km, pt)."""
    t: Callable[..., str] = lambda msgid, **kw: gettext(lang, msgid, **kw)  # noqa: E731
    if isinstance(reason, str):
        return reason
    if not isinstance(reason, dict):
        return str(reason)
    kind = reason.get("kind")
    rule = str(reason.get("rule") or "")
    family, _, name = rule.partition("/")
    words = _words(reason)
    if kind == "language":
        code = str(reason.get("language") or "")
        label = t(LANGUAGE_NAMES[code]) if code in LANGUAGE_NAMES else code or "–"
        return t(TEXTS[0], name=label, score=_percent(reason.get("score"), lang))
    if kind == "rule" and family == "urgent":
        meaning = URGENT_GROUPS.get(name)
        return t(TEXTS[1], words=words, meaning=t(meaning) if meaning else name.replace("_", " "))
    if kind == "rule" and family == "high":
        meaning = HIGH_GROUPS.get(name)
        return t(TEXTS[2], words=words, meaning=t(meaning) if meaning else name.replace("_", " "))
    if kind == "past":
        return t(TEXTS[3], words=words)
    if kind == "released":
        return t(TEXTS[17], words=words)
    if kind == "negated":
        suicidal = "suicide" in str(reason.get("effect") or "")
        return t(TEXTS[5] if suicidal else TEXTS[4], words=words)
    if kind == "model" and rule == "model/urgency":
        level = str(reason.get("urgency") or "")
        return t(TEXTS[6], urgency=t(f"urgency:{level}") if level else "–", score=_percent(reason.get("score"), lang))
    if kind == "model" and rule == "model/category":
        category = str(reason.get("category") or "")
        scores = reason.get("scores") or {}
        label = t(f"category:{category}") if category in CATEGORY_KEYS else category or "–"
        return t(
            TEXTS[7], category=label, score=_percent(scores.get(category) if isinstance(scores, dict) else None, lang)
        )
    if kind == "rule" and rule == "category/thanks_for_outcome":
        return t(TEXTS[15], words=words, category=t("category:other"))
    if kind == "rule" and rule == "category/topic_only":
        return t(TEXTS[16], words=words)
    if kind == "rule" and family == "category":
        label = t(f"category:{name}") if name in CATEGORY_KEYS else name
        return t(TEXTS[8], words=words, category=label)
    if kind == "rule" and family == "population":
        label = t(f"population:{name}") if name in POPULATION_KEYS else name
        return t(TEXTS[9], words=words, population=label)
    if kind == "provisional" and rule == "provisional/kept_urgent":
        level = str(reason.get("urgency") or "")
        return t(TEXTS[12], urgency=t(f"urgency:{level}") if level else "–")
    if kind == "provisional" and rule == "provisional/screen":
        return t(TEXTS[13], score=_percent(reason.get("score"), lang))
    if kind == "provisional" and rule == "provisional/screen_lowered":
        level = str(reason.get("urgency") or "")
        return t(TEXTS[14], urgency=t(f"urgency:{level}") if level else "–")
    if kind == "provisional":
        return t(TEXTS[11])
    text = reason.get("text") or reason.get("reason")
    if text:
        return str(text)
    return t(TEXTS[10], rule=rule or str(kind or "?"), words=words)


def sentences(reasons: Any, lang: str) -> list[str]:
    """Every reason of a report as sentences (an empty list when there are none)."""
    if not isinstance(reasons, list):
        return []
    return [sentence(r, lang) for r in reasons]


def code_sentences(code_reasons: list | None, language: str) -> list[str]:
    """Triage's reasons for its documentation-code suggestions (service/triage/codes.py), one sentence
    each: "‘police’, ‘arrest…’ → Police"."""
    out = []
    for reason in code_reasons or []:
        if not isinstance(reason, dict):
            continue
        field, _, code = str(reason.get("rule", "")).partition("/")
        labels = PERPETRATOR_LABELS if field == "perpetrator" else VIOLATION_LABELS if field == "violation" else {}
        name = gettext(language, labels[code]) if code in labels else code
        out.append(
            gettext(language, N_("Suggested from the words {words}: {code}")).format(words=_words(reason), code=name)
        )
    return out
