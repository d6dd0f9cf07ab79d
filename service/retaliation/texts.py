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
    N_("event:retaliation_resent"),
    N_("retaliation:no"),
    N_("retaliation:yes"),
    N_("{days} days after the escalation"),
)
TITLE_RATES = N_("Retaliation after a report, by facility")
RATE = N_("{share}% treated worse or threatened ({yes} of {answered})")
RATE_HIDDEN = N_("{yes} of {answered} (too few to show a share)")
PLACE_UNKNOWN = N_("place not given")

# The case page's card and its "Send the check-in again" button (handlers and supervisors).
CARD_UNDELIVERED = N_(
    "The retaliation check-in ({days} days after the escalation) did not reach the reporter, and it is not sent "
    "again automatically."
)
CARD_FOLLOW_UP = N_(
    "Follow up yourself: reply on this case if the reporter can be reached, or ask the organisation that knows "
    "them to check that they are safe. Or send the check-in again, by the same channel and in the same language."
)
CARD_SENT_AGAIN = N_("Sent again {when} by {who}.")
CARD_WAITING = N_(
    "The retaliation check-in ({days} days after the escalation) was sent again and waits for its answer."
)
SEND_AGAIN = N_("Send the check-in again")
ONLY_HANDLER = N_("Only the case's handler, a supervisor or an administrator can send the check-in again.")
REFUSED_ANSWERED = N_("The reporter has already answered this check-in: it is not sent again.")
REFUSED_NOT_UNDELIVERED = N_("Only a check-in that did not reach the reporter can be sent again.")
STALE = N_("The page is out of date: open the case again.")
REFUSED_LATER = N_("A later check-in has been sent since: this one is not sent again.")
# Why it cannot be sent again, by the reason a due check-in is skipped (service.why_not).
REFUSED = {
    "withdrawn": N_("The reporter withdrew the report: the check-in is not sent again."),
    "no_consent": N_("The reporter did not agree to be contacted: the check-in is not sent again."),
    "opted_out": N_("The reporter sent STOP: the check-in is not sent again."),
    "no_contact": N_("The reporter's contact has been erased: the check-in cannot be sent again."),
}
