"""Texts of the retaliation watch (gettext msgids, English source; Khmer and Portuguese in the catalogues).

The check-in and both answers must fit two SMS segments in every language once filled in
(tests/retaliation/test_texts.py measures them)."""

from service.kit.i18n import N_

# To the reporter, +7 and +30 days after the escalation (SAMLENG_RETALIATION_CHECKIN_DAYS).
CHECKIN = N_(
    "Samleng: about your report of {date}. Since your report, has anyone treated you worse "
    "or threatened you? Reply 1 No, 2 Yes."
)
THANKS_NO = N_("Thank you. If anyone treats you worse, send us a message at any time.")
THANKS_YES = N_("Thank you for telling us. We opened an urgent case and someone will contact you soon. Code: {code}")
# The narrative of the urgent case a "yes" opens (the reporter wrote nothing else), in their language.
NARRATIVE = N_("Retaliation check-in for case {case}: since the report, the reporter was treated worse or threatened.")

# The case timeline and the dashboard (handlers and supervisors).
EVENT_LABELS = (
    N_("event:retaliation_checkin"),
    N_("event:retaliation_answer"),
    N_("event:retaliation_of"),
    N_("retaliation:no"),
    N_("retaliation:yes"),
    N_("{days} days after the escalation"),
)
TITLE_RATES = N_("Retaliation after a report, by facility")
RATE = N_("{share}% treated worse or threatened ({yes} of {answered})")
RATE_HIDDEN = N_("{yes} of {answered} (too few to show a share)")
PLACE_UNKNOWN = N_("place not given")
