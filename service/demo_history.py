"""A realistic history for the demo: a few thousand reports over 18 months across the four settings
Samleng serves, so the dashboard, scorecards, public page and quarterly report show real figures.

The four settings (from the field documents):
  hiv_kp          KHANA-style community-led monitoring of HIV/TB services by key populations
  health_centre   community engagement in health centres (Chrey, Thmor Koul: HCMC, OD, PHD)
  drug_treatment  community-based drug treatment and compulsory centres (legal aid)
  miners          ex-mineworkers with TB in Southern Africa (English and Portuguese)

Deterministic for a seed (the dates move with today, nothing else). Narratives come from varied
templates in Khmer, English and Portuguese, some with a phone number the real `mask()` removes;
each case is routed by the real routing rules (`match_rule`, `resolve_ladder`: the organisation
and the ladder of bodies are the ones the worker would pick), then lives a plausible life: most
old cases closed, some escalated up their ladder with bodies that answer on time, late or never
(`escalate_case`), answers, the reporter's satisfaction, clusters of similar reports at one place.

The case life (`STATUS_WEIGHTS`, `escalate_case`, `RESPONSES`) and the narrative templates
(`narrative`) are shared with bench/make_cases.py, the million-case benchmark generator.
Rows are written with Core executemany (thousands of ORM objects would take seconds).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from service.bodies.models import GrievanceBody
from service.config import get_settings
from service.escalation.models import Escalation
from service.kit.clock import now as clock_now
from service.kit.crypto import pseudonym, receipt_hash, seal
from service.kit.masking import mask
from service.kit.models import require_id, table_of
from service.kit.receipts import ALPHABET
from service.orgs.models import Organisation, User
from service.places.models import Place
from service.reports.models import Report, ReportCluster, ReportEvent, Reporter
from service.retention.service import TERMINAL_STATUSES
from service.routing.models import ReportRoute, RoutingRule
from service.routing.service import match_rule, resolve_ladder

SEED = 2026
REPORTS = 3000
MONTHS = 18
SITES = 6  # places per area of a setting

# -- the case life (shared with bench/make_cases.py) ------------------------------------------------
STATUS_WEIGHTS = {
    "closed": 45,
    "resolved": 15,
    "rejected": 3,
    "duplicate": 4,
    "withdrawn": 3,
    "received": 8,
    "triaged": 7,
    "in_progress": 9,
    "escalated": 4,
    "responded": 2,
}
OPEN = ("received", "triaged", "in_progress", "escalated", "responded")
URGENCY_WEIGHTS = {"urgent": 5, "high": 20, "normal": 75}
# Share of cases that went to a grievance body, by the case's status.
ESCALATED_SHARE = {
    "escalated": 1.0,
    "responded": 1.0,
    "closed": 0.10,
    "resolved": 0.12,
    "in_progress": 0.05,
    "rejected": 0.02,
}
LEVEL_HOURS = {
    "facility": 72,
    "hcmc": 120,
    "operational_district": 168,
    "province": 240,
    "national": 336,
    "regional": 720,
}
RESPONSES = {
    "en": (
        "We have ordered the stock; it arrives next week.",
        "The staff member was spoken to.",
        "The fee was refunded.",
        "This is for the provincial department.",
        "Opening hours are now posted.",
        "A visit to the facility is planned this month.",
    ),
    "km": (
        "យើងបានបញ្ជាទិញថ្នាំហើយ វានឹងមកដល់សប្តាហ៍ក្រោយ។",
        "យើងបានណែនាំបុគ្គលិកនោះហើយ។",
        "ប្រាក់ត្រូវបានសងត្រឡប់វិញហើយ។",
        "រឿងនេះជាការងាររបស់មន្ទីរសុខាភិបាលខេត្ត។",
        "ម៉ោងបើកត្រូវបានបិទផ្សាយហើយ។",
    ),
    "pt": (
        "Encomendámos os medicamentos; chegam na próxima semana.",
        "O processo de compensação foi reaberto.",
        "A clínica vai fazer o rastreio na próxima visita.",
        "Este assunto é da direção provincial.",
    ),
}
ESCALATION_COLUMNS = (
    "report_id",
    "body_id",
    "rung",
    "idempotency_key",
    "status",
    "actor",
    "created_at",
    "due_at",
    "remind_at",
    "reminded_at",
    "acknowledged_at",
    "responded_at",
    "closed_at",
    "response_masked",
    "link_nonce",
)


def escalate_case(
    rng: random.Random,
    rid: int,
    status: str,
    created: datetime,
    finished: datetime | None,
    now: datetime,
    ladder: list[int],
    profiles: dict,
    due: datetime | None,
    *,
    responses: tuple[str, ...] = RESPONSES["en"],
    tag: str = "bench",
):
    """A case's escalations up its ladder: (rows in ESCALATION_COLUMNS order, the report's due_at).

    `profiles[body] = (chance of answering, speed as a share of the deadline, deadline hours)`. A body
    answers on time, late or never (the worker then moves the case up a rung), acknowledges, acts,
    resolves or says "not ours"; an escalation still waiting when the case closed is cancelled.
    """
    out: list[tuple] = []
    sent = created + timedelta(hours=rng.lognormvariate(3.5, 0.8))  # the handler escalates after a day or two
    end = min(finished or now, now)
    if sent >= end:
        sent = created + (end - created) / 2
    rung = 0
    while rung < len(ladder) and sent < end:
        body = ladder[rung]
        p_answer, speed, hours = profiles[body]
        window = timedelta(hours=hours)
        due_at = sent + window
        remind = due_at - min(timedelta(hours=24), window / 4)
        ack = responded = closed = text = None
        st, reminded = "open", remind if remind < end else None
        answer_at = sent + window * (speed * rng.lognormvariate(0, 0.6)) if rng.random() < p_answer else None
        last = rung == len(ladder) - 1
        key, nonce = f"r{rid}:{tag}:{rung}", f"{rid:010x}{rung:06x}"
        if answer_at is not None and answer_at < end:
            roll = rng.random()
            if roll < 0.30:  # acknowledges first, acts later (or never)
                ack = answer_at
                later = answer_at + window * rng.uniform(0.1, 1.0)
                if later < end and rng.random() < 0.7:
                    st, responded, text = "responded", later, rng.choice(responses)
                else:
                    st = "acknowledged"
            elif roll < 0.65:
                st, responded, text = "responded", answer_at, rng.choice(responses)
            elif roll < 0.90:
                st, responded, closed, text = "resolved", answer_at, answer_at, rng.choice(responses)
            else:
                st, responded, closed, text = "not_ours", answer_at, answer_at, rng.choice(responses)
            if st in ("acknowledged",) and finished is not None:
                st, closed = "cancelled", finished  # the case closed while the body still held it
            out.append(
                (
                    rid,
                    body,
                    rung,
                    key,
                    st,
                    "handler",
                    sent,
                    due_at,
                    remind,
                    reminded,
                    ack,
                    responded,
                    closed,
                    text,
                    nonce,
                )
            )
            if st == "not_ours" and not last and rng.random() < 0.8:
                sent, rung = answer_at + timedelta(hours=rng.uniform(2, 72)), rung + 1  # the handler goes past it
                continue
            break
        if due_at < end:  # never answered in time: the worker expired it and moved the case up a rung
            late_ack = answer_at if answer_at is not None and answer_at < due_at + timedelta(minutes=1) else None
            st, closed = ("expired", due_at + timedelta(minutes=1))
            out.append(
                (
                    rid,
                    body,
                    rung,
                    key,
                    st,
                    "deadline" if rung else "handler",
                    sent,
                    due_at,
                    remind,
                    reminded,
                    late_ack,
                    None,
                    closed,
                    None,
                    nonce,
                )
            )
            sent, rung = closed, rung + 1
            continue
        # Still waiting: the case is open, or it closed before the body answered (cancelled).
        if finished is not None:
            st, closed = "cancelled", finished
        out.append(
            (rid, body, rung, key, st, "handler", sent, due_at, remind, reminded, None, None, closed, None, nonce)
        )
        if finished is None and status in ("escalated", "in_progress", "responded"):
            due = due_at  # the case's deadline is the body's
        break
    return out, due


# -- narratives -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Story:
    category: str
    populations: tuple[str | None, ...]
    text: dict[str, str]  # language -> template with {place} {days} {hours} {amount} {years}
    urgent: bool = False


def _s(category: str, populations: tuple[str | None, ...], urgent: bool = False, **text: str) -> Story:
    return Story(category, populations, text, urgent)


STORIES: dict[str, tuple[Story, ...]] = {
    "hiv_kp": (
        _s(
            "service_quality",
            ("plhiv",),
            en="No ARV at {place} for {days} days, they told us to come back next month.",
            km="គ្មានថ្នាំ ARV នៅ{place} អស់រយៈពេល {days} ថ្ងៃហើយ គេប្រាប់ឱ្យមកវិញខែក្រោយ។",
        ),
        _s(
            "stigma_discrimination",
            ("transgender",),
            en="The nurse at {place} shouted at me in front of everyone because I am transgender.",
            km="គិលានុបដ្ឋាយិកានៅ{place} ស្រែកដាក់ខ្ញុំនៅមុខមនុស្សគ្រប់គ្នា ព្រោះខ្ញុំជាអ្នកប្លែងភេទ។",
        ),
        _s(
            "financial_hardship",
            ("plhiv", "msm"),
            en="Staff at {place} asked for {amount} riel for a viral load test that should be free.",
            km="បុគ្គលិកនៅ{place} សុំលុយ {amount} រៀល សម្រាប់តេស្តបន្ទុកមេរោគ ដែលគួរតែឥតគិតថ្លៃ។",
        ),
        _s(
            "service_quality",
            ("msm",),
            en="No PrEP at {place} again this month, I came three times.",
            km="មិនមានថ្នាំ PrEP នៅ{place} ទៀតហើយខែនេះ ខ្ញុំមកបីដងហើយ។",
        ),
        _s(
            "stigma_discrimination",
            ("plhiv",),
            en="A worker at {place} told my HIV result to my neighbour.",
            km="បុគ្គលិកម្នាក់នៅ{place} បានប្រាប់លទ្ធផលតេស្ត HIV របស់ខ្ញុំទៅអ្នកជិតខាង។",
        ),
        _s(
            "service_quality",
            ("tb",),
            en="The TB clinic at {place} was closed when we arrived in the morning.",
            km="គ្លីនិករបេងនៅ{place} បិទទ្វារ ពេលយើងមកដល់ពេលព្រឹក។",
        ),
        _s(
            "human_rights_violation",
            ("sex_worker",),
            urgent=True,
            en="Police took our condoms near the market by {place} and threatened to arrest us.",
            km="ប៉ូលិសយកស្រោមអនាម័យរបស់យើងនៅជិតផ្សារក្បែរ{place} ហើយគំរាមចាប់ខ្លួនយើង។",
        ),
        _s(
            "financial_hardship",
            ("tb",),
            en="I had to pay {amount} riel for the TB X-ray at {place}.",
            km="ខ្ញុំត្រូវបង់ {amount} រៀល សម្រាប់ការថតកាំរស្មីរបេងនៅ{place}។",
        ),
    ),
    "health_centre": (
        _s(
            "service_quality",
            ("general", None),
            en="The doctor did not come to {place} all day; we waited {hours} hours.",
            km="គ្រូពេទ្យមិនមកនៅ{place} ពេញមួយថ្ងៃទេ យើងរង់ចាំ {hours} ម៉ោង។",
        ),
        _s(
            "financial_hardship",
            ("general", None),
            en="{place} refused my ID Poor card and asked me to pay {amount} riel.",
            km="{place} មិនទទួលប័ណ្ណក្រីក្ររបស់ខ្ញុំ ហើយឱ្យខ្ញុំបង់ {amount} រៀល។",
        ),
        _s(
            "service_quality",
            ("general",),
            urgent=True,
            en="There was no midwife at night at {place}; my sister gave birth on the road.",
            km="គ្មានឆ្មបនៅពេលយប់នៅ{place}ទេ ប្អូនស្រីខ្ញុំសម្រាលកូននៅតាមផ្លូវ។",
        ),
        _s(
            "financial_hardship",
            ("general", None),
            en="The pharmacy at {place} sold us the free medicine.",
            km="ឱសថស្ថាននៅ{place} លក់ថ្នាំដែលគួរតែឥតគិតថ្លៃឱ្យយើង។",
        ),
        _s(
            "other",
            (None,),
            en="Thank you to the staff at {place}, the new opening hours are posted and kept.",
            km="សូមអរគុណបុគ្គលិកនៅ{place} ម៉ោងបើកថ្មីត្រូវបានបិទផ្សាយ ហើយគោរពតាម។",
        ),
        _s(
            "service_quality",
            ("general", None),
            en="No water and the toilet has been broken at {place} for {days} days.",
            km="គ្មានទឹក ហើយបង្គន់ខូចនៅ{place} អស់ {days} ថ្ងៃហើយ។",
        ),
    ),
    "drug_treatment": (
        _s(
            "human_rights_violation",
            ("people_who_use_drugs",),
            urgent=True,
            en="My brother was taken to the compulsory drug centre near {place} and we cannot visit him.",
            km="បងប្រុសខ្ញុំត្រូវគេចាប់យកទៅមណ្ឌលព្យាបាលគ្រឿងញៀនដោយបង្ខំក្បែរ{place} ហើយយើងមិនអាចទៅសួរសុខទុក្ខគាត់បានទេ។",
        ),
        _s(
            "service_quality",
            ("people_who_use_drugs",),
            en="The methadone clinic at {place} ran out of doses for {days} days.",
            km="គ្លីនិកមេតាដូននៅ{place} អស់ថ្នាំ {days} ថ្ងៃហើយ។",
        ),
        _s(
            "human_rights_violation",
            ("people_who_use_drugs",),
            urgent=True,
            en="Police arrested people at the community treatment point at {place}.",
            km="ប៉ូលិសចាប់ខ្លួនមនុស្សនៅកន្លែងព្យាបាលតាមសហគមន៍នៅ{place}។",
        ),
        _s(
            "stigma_discrimination",
            ("people_who_use_drugs",),
            en="Staff at {place} refused to treat me because I use drugs.",
            km="បុគ្គលិកនៅ{place} បដិសេធមិនព្យាបាលខ្ញុំ ព្រោះខ្ញុំប្រើគ្រឿងញៀន។",
        ),
        _s(
            "financial_hardship",
            ("people_who_use_drugs",),
            en="They asked my family for {amount} riel to release me from the centre near {place}.",
            km="គេសុំលុយគ្រួសារខ្ញុំ {amount} រៀល ដើម្បីដោះលែងខ្ញុំពីមណ្ឌលក្បែរ{place}។",
        ),
        _s(
            "human_rights_violation",
            ("people_who_use_drugs",),
            en="People held in the centre near {place} are beaten and get no medicine.",
            km="មនុស្សដែលគេឃុំនៅក្នុងមណ្ឌលក្បែរ{place} ត្រូវគេវាយ ហើយមិនបានទទួលថ្នាំទេ។",
        ),
    ),
    "miners": (
        _s(
            "financial_hardship",
            ("miner",),
            en="I worked {years} years at {place} and got TB; the compensation fund never answered.",
            pt="Trabalhei {years} anos em {place} e apanhei tuberculose; o fundo de compensação nunca respondeu.",
        ),
        _s(
            "service_quality",
            ("miner",),
            en="The clinic near {place} has had no TB medicine for {days} days.",
            pt="A clínica perto de {place} não tem medicamentos para a tuberculose há {days} dias.",
        ),
        _s(
            "service_quality",
            ("miner",),
            en="Nobody screened us for TB or silicosis when we left {place}.",
            pt="Ninguém nos fez o rastreio de tuberculose ou silicose quando saímos de {place}.",
        ),
        _s(
            "financial_hardship",
            ("miner",),
            en="The medical examination for the fund at {place} cost me money I do not have.",
            pt="O exame médico para o fundo em {place} custou-me dinheiro que não tenho.",
        ),
        _s(
            "stigma_discrimination",
            ("miner",),
            en="At {place} they sent me away because I am a foreign former miner.",
            pt="Em {place} mandaram-me embora por ser um antigo mineiro estrangeiro.",
        ),
        _s(
            "service_quality",
            ("miner",),
            en="My TB treatment stopped when I went home from {place}; nobody gave me a transfer letter.",
            pt="O meu tratamento da tuberculose parou quando voltei de {place}; ninguém me deu carta de transferência.",
        ),
    ),
}
TAILS = {
    "en": (
        "",
        "",
        "This has happened three times now.",
        "We are afraid to go back.",
        "Please help us.",
        "Many people from our group were turned away.",
        "Call me on 012 {n3} {n3b}.",
    ),
    "km": (
        "",
        "",
        "រឿងនេះកើតឡើងបីដងហើយ។",
        "យើងខ្លាចត្រឡប់ទៅវិញ។",
        "សូមជួយយើងផង។",
        "មនុស្សជាច្រើនក្នុងក្រុមយើងត្រូវគេបដិសេធ។",
        "សូមទូរស័ព្ទមកខ្ញុំ 012 {n3} {n3b}។",
    ),
    "pt": (
        "",
        "",
        "Já aconteceu três vezes.",
        "Temos medo de voltar.",
        "Por favor ajudem-nos.",
        "Muitos colegas foram mandados embora.",
        "Liguem-me para +258 84 {n3} {n4}.",
    ),
}


def narrative(rng: random.Random, story: Story, language: str, place: str, *, phones: bool = True) -> str:
    """One report's words: the story in that language with its details filled in, and a tail (some
    tails give a phone number, which masking must remove; `phones=False` leaves those out)."""
    template = story.text.get(language) or story.text["en"]
    values = {
        "place": place,
        "days": rng.choice((3, 5, 7, 10, 14, 21, 30)),
        "hours": rng.choice((3, 4, 5, 6, 8)),
        "amount": rng.choice(("5000", "10000", "20000", "40000")),
        "years": rng.randint(6, 28),
        "n3": rng.randint(100, 999),
        "n3b": rng.randint(100, 999),
        "n4": rng.randint(1000, 9999),
    }
    tails = TAILS[language if language in TAILS else "en"]
    tail = rng.choice(tails if phones else tails[:-1])
    return f"{template.format(**values)} {tail.format(**values)}".strip()


_ALL_STORIES = [s for group in STORIES.values() for s in group]


def bench_narrative(rng: random.Random) -> tuple[str, str]:
    """(text, language) for the benchmark generator: any setting's story at no particular place."""
    story = rng.choice(_ALL_STORIES)
    language = rng.choice([lang for lang in story.text])
    place = {"km": "មណ្ឌលសុខភាព", "pt": "o centro de saúde"}.get(language, "the health centre")
    return narrative(rng, story, language, place, phones=False), language  # stored as masked text: no phone


# -- the settings -------------------------------------------------------------------------------------
# (share of reports, languages and their weights, places: (code prefix, place kinds, weight), channels)
# name -> (weight, language weights, (place code prefix, place kinds, weight) pools, channel weights)
SETTINGS: dict[str, tuple[int, dict[str, int], list[tuple[str, tuple[str, ...], int]], dict[str, int]]] = {
    "hiv_kp": (
        40,
        {"km": 60, "en": 40},
        [
            ("KH-2-", ("health_centre",), 30),
            ("KH-12-", ("health_centre",), 25),
            ("KH-17-", ("health_centre",), 15),
            ("KH-1-", ("health_centre",), 10),
            ("KH-3-", ("health_centre",), 10),
            ("KH-", ("health_centre",), 10),
        ],
        {"sms": 60, "telegram": 35, "whatsapp": 5},
    ),
    "health_centre": (
        25,
        {"km": 85, "en": 15},
        [
            ("KH-2-OD-THMORKOUL-HC-CHREY", ("health_centre",), 35),
            ("KH-2-OD-THMORKOUL-", ("health_centre",), 30),
            ("KH-2-", ("health_centre",), 35),
        ],
        {"sms": 80, "telegram": 20},
    ),
    "drug_treatment": (
        15,
        {"km": 70, "en": 30},
        [
            ("KH-1-", ("health_centre", "od"), 40),
            ("KH-12-", ("health_centre", "od"), 35),
            ("KH-2-", ("health_centre", "od"), 25),
        ],
        {"sms": 50, "telegram": 40, "whatsapp": 10},
    ),
    "miners": (
        20,
        {"en": 55, "pt": 45},
        [
            ("ZA-", ("mine",), 55),
            ("MZ-", ("town", "district", "province", "mine"), 30),
            ("LS-", ("town", "district", "province", "mine"), 15),
        ],
        {"sms": 70, "whatsapp": 30},
    ),
}


def _weighted(rng: random.Random, weights: dict) -> object:
    return rng.choices(list(weights), list(weights.values()))[0]


def _place_pools(session: Session) -> dict[str, list[tuple[list, int]]]:
    places = session.exec(select(Place)).all()
    pools: dict[str, list[tuple[list, int]]] = {}
    for name, (_, _, specs, _) in SETTINGS.items():
        pools[name] = []
        for prefix, kinds, weight in specs:
            found = sorted((p for p in places if p.code.startswith(prefix) and p.kind in kinds), key=lambda p: p.code)
            # A programme covers a few sites in each area (and routing them all would be slow).
            found = random.Random(f"{name}-{prefix}").sample(found, min(len(found), SITES))
            if found:
                pools[name].append((found, weight))
    return pools


def history_marker(seed: int) -> str:
    """The receipt code of the history's first report: present means the history is loaded."""
    return _code(random.Random(f"codes-{seed}"))


def _code(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(8))


def load_history(
    session: Session, *, seed: int = SEED, reports: int = REPORTS, months: int = MONTHS, now: datetime | None = None
) -> int:
    """Write the history (once: a second run finds its first receipt and does nothing); returns the
    number of reports written."""
    codes = random.Random(f"codes-{seed}")
    if session.exec(select(Report.id).where(Report.receipt_hash == receipt_hash(history_marker(seed)))).first():
        return 0
    rng = random.Random(seed)
    now = (now or clock_now()) - timedelta(hours=1)
    span = timedelta(days=months * 30.4)
    pools = _place_pools(session)
    orgs = {o.slug: o for o in session.exec(select(Organisation)).all()}
    handlers: dict[int, list[str]] = {}
    user_ids: dict[str, int] = {}
    for u in session.exec(select(User)).all():
        if u.org_id is not None and u.role in ("handler", "supervisor"):
            handlers.setdefault(u.org_id, []).append(u.email)
            user_ids[u.email] = require_id(u)
    bodies = {b.id: b for b in session.exec(select(GrievanceBody)).all()}
    body_rng = random.Random(f"bodies-{seed}")
    profiles = {
        bid: (
            body_rng.uniform(0.45, 0.97),
            body_rng.uniform(0.15, 1.4),
            b.deadline_hours or LEVEL_HOURS.get(b.level, 168),
        )
        for bid, b in sorted(bodies.items())
    }
    rules: dict[tuple, RoutingRule | None] = {}
    ladders: dict[tuple, list[int]] = {}
    statuses, status_w = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    settings_w = {name: spec[0] for name, spec in SETTINGS.items()}
    systemic_size = get_settings().triage_cluster_systemic_size
    hour = timedelta(hours=1)
    forget = now - timedelta(days=get_settings().narrative_retention_days)

    # Clusters: a run of the same problem at one place over a few weeks (a stock-out, a fee).
    episodes: list[dict] = []
    for _ in range(max(4, reports // 100)):
        setting = str(_weighted(rng, settings_w))
        places, weights = zip(*pools[setting])
        place = rng.choice(rng.choices(places, weights)[0])
        episodes.append(
            {
                "setting": setting,
                "story": rng.choice(STORIES[setting]),
                "place": place,
                "start": now - span * rng.random() ** 1.3,
                "size": rng.randint(3, 14),
            }
        )
    plan: list[tuple[str, Story, Place, datetime, int | None]] = []
    for index, ep in enumerate(episodes):
        for _ in range(ep["size"]):
            plan.append(
                (
                    ep["setting"],
                    ep["story"],
                    ep["place"],
                    min(ep["start"] + timedelta(days=rng.uniform(0, 21)), now),
                    index,
                )
            )
    while len(plan) < reports:
        setting = str(_weighted(rng, settings_w))
        places, weights = zip(*pools[setting])
        place = rng.choice(rng.choices(places, weights)[0])
        plan.append((setting, rng.choice(STORIES[setting]), place, now - span * rng.random() ** 1.25, None))
    plan = plan[:reports]
    plan.sort(key=lambda p: p[3])

    cluster_ids: dict[int, int] = {}
    for index, ep in enumerate(episodes):
        size = sum(1 for p in plan if p[4] == index)
        if size < 2:
            continue
        label = (
            ep["story"]
            .text["en"]
            .split(";")[0]
            .split(",")[0]
            .format(place=ep["place"].name_en, days="", hours="", amount="", years="")[:200]
        )
        cluster_ids[index] = session.execute(
            insert(table_of(ReportCluster)).returning(table_of(ReportCluster).c.id),
            [
                {
                    "category": ep["story"].category,
                    "place_id": ep["place"].id,
                    "size": size,
                    "systemic": size >= systemic_size,
                    "label": label,
                    "created_at": ep["start"],
                    "updated_at": ep["start"],
                }
            ],
        ).scalar_one()

    # Reporters: most report once, some several times.
    reporter_rows: list[dict[str, Any]] = []
    reporter_of: list[int] = []
    for i, (setting, *_rest) in enumerate(plan):
        if i and rng.random() < 0.3:
            reporter_of.append(rng.randrange(len(reporter_rows)))
            continue
        channel = str(_weighted(rng, SETTINGS[setting][3]))
        address = f"+855100{len(reporter_rows):06d}" if setting != "miners" else f"+27800{len(reporter_rows):06d}"
        reporter_rows.append(
            {"pseudonym": pseudonym(channel, address), "channel": channel, "language": None, "created_at": plan[i][3]}
        )
        reporter_of.append(len(reporter_rows) - 1)
    reporter_ids = list(
        session.execute(
            insert(table_of(Reporter)).returning(table_of(Reporter).c.id, sort_by_parameter_order=True), reporter_rows
        ).scalars()
    )

    report_rows, lives = [], []
    for i, (setting, story, place, created, episode) in enumerate(plan):
        reporter = reporter_rows[reporter_of[i]]
        language = str(_weighted(rng, SETTINGS[setting][1]))
        if setting == "miners":
            language = "pt" if place.code.startswith("MZ") and rng.random() < 0.9 else "en"
        name = place.name_km if language == "km" else place.name_en
        text = narrative(rng, story, language, name)
        population = rng.choice(story.populations)
        urgency = "urgent" if story.urgent and rng.random() < 0.6 else str(_weighted(rng, URGENCY_WEIGHTS))
        status = rng.choices(statuses, status_w)[0]
        if status in OPEN and created < now - timedelta(days=60):
            status = "closed"  # older cases are mostly closed: the open ones are recent
        if status == "received":
            status = "triaged"  # the worker triages a report seconds after it arrives
        key = (story.category, place.id, urgency, population)
        if key not in rules:
            rules[key] = match_rule(
                session, category=story.category, place_id=place.id, urgency=urgency, population=population
            )
        rule = rules[key]
        org = orgs.get(rule.org_slug) if rule is not None and rule.org_slug else None
        ladder: list[int] = []
        if rule is not None:
            lkey = (rule.id, place.id, story.category)
            if lkey not in ladders:
                ladders[lkey] = [
                    require_id(r.body)
                    for r in resolve_ladder(session, rule, place_id=place.id, category=story.category)
                    if r.body is not None
                ]
            ladder = ladders[lkey]
        first = created + hour * rng.lognormvariate(3, 1.2) if status != "received" else None
        resolved = created + hour * rng.lognormvariate(5, 1) if status in ("resolved", "closed") else None
        first = min(first, now) if first else None
        resolved = min(resolved, now) if resolved else None
        closed = min(resolved + timedelta(days=2), now) if status == "closed" and resolved else None
        consent = rng.random() < 0.55
        satisfaction = (
            rng.choice(("yes", "yes", "yes", "partly", "no"))
            if status == "closed" and consent and rng.random() < 0.7
            else None
        )
        due = None
        if status in OPEN:
            due = created + hour * {"urgent": 24, "high": 72, "normal": 240}[urgency]
        people = handlers.get(require_id(org), []) if org is not None else []
        handler = rng.choice(people) if people and (status not in ("received", "triaged")) else None
        escalations: list[tuple] = []
        if ladder and rng.random() < ESCALATED_SHARE.get(status, 0.0) * 1.6:
            escalations, due = escalate_case(
                rng,
                i,
                status,
                created,
                resolved or closed,
                now,
                ladder,
                profiles,
                due,
                responses=RESPONSES.get(bodies[ladder[0]].language, RESPONSES["en"]),
                tag="demo",
            )
        if status in ("escalated", "responded", "in_progress") and escalations:
            # An open case says what its last body did: waiting, answered, resolved (the body's word).
            last = dict(zip(ESCALATION_COLUMNS, escalations[-1]))
            if last["status"] == "resolved":
                status, resolved = "resolved", last["responded_at"]
            elif last["status"] in ("responded", "open", "acknowledged"):
                status = "responded" if last["status"] == "responded" else "escalated"
            else:
                status = "in_progress"
        elif status in ("escalated", "responded"):
            status = "in_progress"
        changed = max(x for x in (created, first, resolved, closed, *(e[12] or e[6] for e in escalations)) if x)
        report_rows.append(
            {
                "receipt_hash": receipt_hash(_code(codes)),
                "channel": reporter["channel"],
                "reporter_id": reporter_ids[reporter_of[i]],
                # The retention duty drops the words of cases that ended long ago: so does the history.
                "narrative_sealed": None
                if status in TERMINAL_STATUSES and (closed or first or created) < forget
                else seal(text),
                "narrative_masked": mask(text),
                "language": language,
                "category": story.category,
                "category_source": "reporter" if rng.random() < 0.5 else "triage",
                "urgency": urgency,
                "place_id": place.id,
                "consent_followup": consent,
                "assisted": False,
                "status": status,
                "created_at": created,
                "updated_at": min(changed, now),
                "population": population,
                "triage_confidence": round(rng.uniform(0.55, 0.97), 2),
                "triage_language": language,
                "cluster_id": cluster_ids.get(episode) if episode is not None else None,
                "org_id": org.id if org is not None else None,
                "assigned_user_id": user_ids.get(handler) if handler else None,
                "due_at": due,
                "first_response_at": first,
                "resolved_at": resolved,
                "closed_at": closed,
                "satisfaction": satisfaction,
                "withdrawn_at": (first or created) if status == "withdrawn" else None,
            }
        )
        lives.append((rule, org, handler, escalations))
    report_ids = list(
        session.execute(
            insert(table_of(Report)).returning(table_of(Report).c.id, sort_by_parameter_order=True), report_rows
        ).scalars()
    )

    routes, events, esc_rows = [], [], []
    for rid, row, (rule, org, handler, escalations) in zip(report_ids, report_rows, lives):
        created = row["created_at"]

        def event(kind: str, at: datetime, actor: str = "system", **detail: object) -> None:
            events.append({"report_id": rid, "kind": kind, "actor": actor, "detail": detail, "created_at": at})  # noqa: B023

        event("received", created, channel=row["channel"])
        routes.append(
            {
                "report_id": rid,
                "rule_id": rule.id if rule else None,
                "actor": "system",
                "routed_at": created,
                "category": row["category"],
                "place_id": row["place_id"],
                "urgency": row["urgency"],
                "population": row["population"],
            }
        )
        event(
            "routed",
            created,
            rule=rule.rule_key if rule else None,
            version=rule.version if rule else None,
            org=org.slug if org else None,
        )
        if row["cluster_id"]:
            event("clustered", created, "triage", cluster_id=row["cluster_id"])
        actor = handler or "system"
        if row["first_response_at"]:
            event("status", row["first_response_at"], actor, **{"from": "triaged", "to": "in_progress"})
        for e in escalations:
            values = dict(zip(ESCALATION_COLUMNS, e))
            values["report_id"] = rid
            values["idempotency_key"] = f"demo:{rid}:{values['rung']}"
            values["link_nonce"] = f"{rid:010x}{values['rung']:06x}"
            values["rule_id"] = rule.id if rule else None
            body = bodies[values["body_id"]]
            if values["actor"] == "handler":
                values["actor"] = actor
            esc_rows.append(values)
            event(
                "escalated",
                values["created_at"],
                values["actor"],
                body=body.slug,
                rung=values["rung"],
                rule=rule.rule_key if rule else None,
                due_at=values["due_at"].isoformat(),
            )
            if values["acknowledged_at"]:
                event("body_response", values["acknowledged_at"], f"body:{body.slug}", action="acknowledge", via="link")
            if values["responded_at"]:
                action = {"resolved": "resolved", "not_ours": "not_ours"}.get(values["status"], "action_taken")
                detail = {"action": action, "via": "link"}
                if values["response_masked"]:
                    detail["text"] = values["response_masked"]
                event("body_response", values["responded_at"], f"body:{body.slug}", **detail)
            if values["status"] == "expired":
                event("deadline_missed", values["closed_at"], body=body.slug, rung=values["rung"])
        if row["resolved_at"]:
            event("status", row["resolved_at"], actor, **{"from": "in_progress", "to": "resolved"})
        if row["closed_at"]:
            event("status", row["closed_at"], actor, **{"from": "resolved", "to": "closed"})
        elif row["status"] in ("rejected", "duplicate", "withdrawn"):
            event(
                "status",
                row["first_response_at"] or created,
                actor if row["status"] != "withdrawn" else "reporter",
                **{"from": "triaged", "to": row["status"]},
            )
        if row["satisfaction"]:
            event(
                "satisfaction",
                min(row["closed_at"] + timedelta(hours=rng.uniform(2, 48)), now),
                "reporter",
                answer=row["satisfaction"],
            )
    session.execute(insert(table_of(ReportRoute)), routes)
    if esc_rows:
        session.execute(insert(table_of(Escalation)), esc_rows)
    session.execute(insert(table_of(ReportEvent)), events)
    session.flush()
    return len(report_ids)
