"""Texts to bodies and to reporters (gettext msgids, English source; Khmer in the km catalogue).

Reporter texts must fit two SMS segments in both languages once filled in
(tests/escalation/test_texts.py measures them).
"""

from service.kit.i18n import N_

# -- to grievance bodies --------------------------------------------------------------------
SUBJECT_NEW = N_("[Samleng] Case {case}: {category} at {place} - please answer by {due}")
SUBJECT_REMINDER = N_("[Samleng] Reminder: case {case} needs your answer by {due}")
SUBJECT_MOVED = N_("[Samleng] Case {case} was passed to {next_body}")
BODY_INTRO = N_("A community member reported a problem that your office can act on.")
BODY_REMINDER = N_("Reminder: we have not yet received your answer about this case.")
BODY_MOVED = N_(
    "No answer arrived by the deadline, so case {case} was passed to {next_body}. "
    "You can still record what you have done through your link."
)
FIELD_CASE = N_("Case")
FIELD_CATEGORY = N_("Category")
FIELD_PLACE = N_("Place")
FIELD_URGENCY = N_("Urgency")
FIELD_REPORTED = N_("Reported on")
FIELD_DEADLINE = N_("Please answer by")
FIELD_NARRATIVE = N_("What was reported (identifying details removed)")
BODY_HOWTO = N_(
    "Answer on one page, no account needed: acknowledge, action taken, resolved, or not yours. "
    "The link expires on {expires}."
)
SMS_NEW = N_("Samleng case {case} ({category}, {place}) needs your answer by {due}: {link}")
PLACE_UNKNOWN = N_("place not given")

CATEGORY_LABELS = {
    "service_quality": N_("Poor service"),
    "stigma_discrimination": N_("Stigma or discrimination"),
    "financial_hardship": N_("Fees or money"),
    "human_rights_violation": N_("Rights abuse or police"),
    "other": N_("Other"),
    None: N_("Other"),
}
URGENCY_LABELS = {"urgent": N_("urgent"), "high": N_("high"), "normal": N_("normal")}

# -- the response page -------------------------------------------------------------------------
PAGE_TITLE = N_("Answer about a reported problem")
PAGE_ACTION = N_("Your answer")
ACTION_LABELS = {
    "acknowledge": N_("We have received this case"),
    "action_taken": N_("Action taken (describe below)"),
    "resolved": N_("The problem is resolved"),
    "not_ours": N_("This is not for our office"),
}
PAGE_TEXT = N_("What was done (no names or phone numbers, please)")
PAGE_SUBMIT = N_("Send answer")
PAGE_THANKS = N_("Thank you. Your answer is recorded on the case.")
PAGE_BAD_LINK = N_("This link is not valid. Please use the link from the latest message.")
PAGE_EXPIRED = N_("This link has expired. Please contact the organisation that sent it.")
PAGE_ALREADY = N_("This case is already closed for your office. Thank you.")
PAGE_NOW_WITH = N_(
    "This case is now with {body}. Only the office that holds a case can settle it; "
    "you can still record what your office has done."
)
PAGE_NO_LONGER_YOURS = N_("This case is no longer with your office. You can still record what your office has done.")
PAGE_NOT_SETTLED = N_("Your answer was not recorded.")
PAGE_HISTORY = N_("Answers so far")
PAGE_FIGURES = N_("How your office answers: the published figures")
PAGE_FIGURES_NOTE = N_(
    "Cases reported in the last 12 months: the same figures as the public page. "
    'Counts too small to publish are shown as "<{threshold}" or x.'
)
PAGE_LANG = N_("ភាសាខ្មែរ / English")

# -- to reporters (closing the loop) -----------------------------------------------------------------
LOOP = {
    "escalated": N_(
        "Samleng: your report of {date} was sent to the authority responsible. "
        "We will tell you when they answer. Text STATUS and your code to check."
    ),
    # The case climbed the ladder (a deadline passed, or the handler escalated it again).
    "moved_up": N_(
        "Samleng: your report of {date} was passed on to the next authority responsible. "
        "Text STATUS and your code to check."
    ),
    "responded": N_("Samleng: the authority answered about your report of {date} and says action is being taken."),
    "resolved": N_("Samleng: your report of {date} is marked as resolved."),
    "closed": N_("Samleng: your report of {date} is closed. Was the problem resolved? Reply 1 yes, 2 no, 3 partly."),
    # A body answered a dossier (a collective complaint) that links the report: docs/escalation.md.
    "dossier_answered": N_(
        "Samleng: the authority answered a joint complaint that includes your report of {date} and others like it."
    ),
}
THANKS_YES = N_("Thank you. We are glad it was resolved.")
THANKS_PARTLY = N_("Thank you. We will use your answer to follow up.")
THANKS_NO = N_("Thank you for telling us. A supervisor will look at your report again.")

# -- the reporter answers a handler's question (service/escalation/clocks.py) -------------------------
ANSWER_ADDED = N_("Thank you. Your answer was added to your report.")

# -- a dossier (a pattern of cases escalated as one) to a body: docs/escalation.md, "Collective escalation" --
DOSSIER_SUBJECT_NEW = N_("[Samleng] Joint complaint {dossier}: {title} - please answer by {due}")
DOSSIER_SUBJECT_REMINDER = N_("[Samleng] Reminder: joint complaint {dossier} needs your answer by {due}")
DOSSIER_SUBJECT_MOVED = N_("[Samleng] Joint complaint {dossier} was passed to {next_body}")
DOSSIER_BODY_MOVED = N_(
    "No answer arrived by the deadline, so joint complaint {dossier} was passed to {next_body}. "
    "You can still record what you have done through your link."
)
DOSSIER_INTRO = N_(
    "Community members reported the same problem many times. This joint complaint gathers their reports "
    "as counts, with no names or phone numbers; please answer it as one case."
)
FIELD_DOSSIER = N_("Joint complaint")
DOSSIER_SUPPRESSED = N_(
    'Counts too small to publish are shown as "<{threshold}", and a few others as x, '
    "so that no single person can be singled out."
)
DOSSIER_TABLES = (
    (N_("Cases per month and category"), "over_time"),
    (N_("Cases per province"), "places"),
    (N_("Bodies already asked, and how they answered"), "bodies"),
)
DOSSIER_TOTAL = N_("Total")
DOSSIER_QUOTES = N_("Approved quotes")
DOSSIER_QUOTES_WITHHELD = N_("Too few cases for a quote to be shown safely.")
DOSSIER_SMS = N_("Samleng joint complaint {dossier} ({title}) needs your answer by {due}: {link}")
