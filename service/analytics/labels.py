"""User-facing words of the analytics pages, as gettext msgids (translated in service/locale)."""

from __future__ import annotations

from service.kit.i18n import N_, gettext

VALUE_LABELS = {
    "service_quality": N_("service quality"),
    "stigma_discrimination": N_("stigma and discrimination"),
    "financial_hardship": N_("fees and costs"),
    "human_rights_violation": N_("rights violations"),
    "other": N_("other"),
    "unknown": N_("not known"),
    "urgent": N_("urgent"),
    "high": N_("high"),
    "normal": N_("normal"),
    "sms": N_("SMS"),
    "whatsapp": N_("WhatsApp"),
    "telegram": N_("Telegram"),
    "web": N_("web form"),
    "msm": N_("men who have sex with men"),
    "transgender": N_("transgender people"),
    "sex_worker": N_("sex workers"),
    "people_who_use_drugs": N_("people who use drugs"),
    "plhiv": N_("people living with HIV"),
    "tb": N_("people with TB"),
    "miner": N_("mineworkers"),
    "general": N_("general public"),
    "open": N_("open"),
    "resolved": N_("resolved"),
    "yes": N_("satisfied"),
    "partly": N_("partly satisfied"),
    "no": N_("not satisfied"),
    "no_answer": N_("no answer"),
    "under_1_day": N_("under 1 day"),
    "1_3_days": N_("1-3 days"),
    "3_7_days": N_("3-7 days"),
    "7_30_days": N_("7-30 days"),
    "over_30_days": N_("over 30 days"),
    "met": N_("deadline met"),
    "missed": N_("deadline missed"),
    "pending": N_("still running"),
}

TEXTS = [
    N_("Reports over time by category"),
    N_("Reports by urgency"),
    N_("Reports by channel"),
    N_("Reports by population"),
    N_("Reports by province"),
    N_("Open and resolved"),
    N_("Time to first response"),
    N_("Time to resolution"),
    N_("Reporter satisfaction at closure"),
    N_("Deadlines"),
    N_("Possible systemic problems"),
    N_("What people report: public figures"),
    N_(
        'Counts from 1 to {below} are shown as "<{threshold}"; a few other counts are hidden (x) so that '
        "small ones cannot be worked out from the totals."
    ),
    N_("Facility scorecard"),
    N_("District scorecard"),
    N_("Quarterly evidence report"),
    N_("Top problems"),
    N_("Province scorecard"),
    N_("Country scorecard"),
    N_("Trend"),
    N_("What people said"),
    N_("Total"),
    N_("Province"),
    N_("Reports"),
    N_("No reports yet."),
    N_("Supervisor dashboard"),
    N_("Period"),
    N_("Average hours"),
    N_("reports"),
    N_("Place"),
    N_("Quotes are excerpts of masked reports, each approved by a supervisor."),
    N_("All provinces"),
    N_("Download CSV"),
    N_("Download XLSX"),
]


def label(language: str, value: str) -> str:
    """The display word for a stored value (category, urgency, …) in a language."""
    msgid = VALUE_LABELS.get(value)
    return gettext(language, msgid) if msgid else value


def t(language: str, msgid: str, **params: object) -> str:
    return gettext(language, msgid, **params)
