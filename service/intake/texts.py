"""Every text the intake dialogue sends, as gettext message ids (English source).

Budget: each must fit in two SMS segments once filled in — 306 GSM-7 characters in
English (so plain ASCII only), 134 UTF-16 units in Khmer. tests/intake/test_texts.py
measures every one in both languages.
"""

from service.kit.i18n import N_

ASK_CATEGORY = N_(
    "Thank you, your report is saved. What is it about? Reply 1 Poor service, "
    "2 Stigma or discrimination, 3 Fees or money, 4 Rights abuse or police, 5 Other. 0 to skip."
)
ASK_CATEGORY_AGAIN = N_("Please reply with a number from 1 to 5, or 0 to skip.")
# The fee question, sent after the dialogue on a report about fees or money (fee_question.py).
ASK_FEE_CONFIRM = N_("You mentioned paying {amount}. Is that right? Reply 1 Yes or 2 No. 0 to skip.")
ASK_FEE_AMOUNT = N_("How much were you asked to pay? Write the amount and currency, for example 20000 riel. 0 to skip.")
FEE_NOTED = N_("Thank you. We noted {amount}.")
FEE_SKIPPED = N_("Thank you. We will not ask about the amount again.")
ASK_PLACE = N_("Where did it happen? Reply with the health centre, district or province name. 0 to skip.")
ASK_CONSENT = N_("May we contact you later about this report? Reply YES or NO. 0 to skip.")
ASK_CONSENT_AGAIN = N_("Please reply YES or NO, or 0 to skip.")
DONE = N_(
    "Thank you. Your receipt code is {code}. Keep it safe. "
    "To check progress text STATUS {code}. To withdraw text DELETE {code}."
)
DEFERRED = N_(
    "Your message is saved as report {code}. Many reports came from this number this hour, "
    "so it will be reviewed a little later. Text STATUS {code} to check."
)
EMPTY = N_("Please describe what happened in words. You do not need to give your name.")
HELP = N_(
    "Samleng: report problems with health services, anonymously. Text what happened. "
    "STATUS code: check a report. DELETE code: withdraw it. STOP: no more messages. KH: Khmer."
)
STOPPED = N_(
    "You will get no more messages from us and your contact details are erased. "
    "Your reports stay. Text START to allow messages again."
)
STARTED = N_("Messages are allowed again. Text what happened to make a report.")
STATUS_USAGE = N_("Send STATUS and your receipt code, for example STATUS 7K3M-9QXZ.")
DELETE_USAGE = N_("Send DELETE and your receipt code, for example DELETE 7K3M-9QXZ.")
NOT_FOUND = N_("No report has the code {code}. Please check it and try again.")
STATUS_REPLY = N_("Report {code}: {status}. Last update {date}.")
WITHDRAWN = N_("Report {code} is withdrawn and its text is erased.")
ALREADY_WITHDRAWN = N_("Report {code} was already withdrawn.")
RATE_LIMITED = N_("Too many attempts. Please try again in an hour.")
LANGUAGE_SET = N_("OK, we will write in English.")
SPOOLED = N_("Received. We will reply to you soon.")

# Public status labels (what a reporter sees of a case's status).
STATUS_LABELS = {
    "received": N_("received, waiting for review"),
    "triaged": N_("received, waiting for review"),
    "in_progress": N_("being handled"),
    "escalated": N_("sent to the responsible authority"),
    "responded": N_("the authority has answered"),
    "resolved": N_("resolved"),
    "closed": N_("closed"),
    "duplicate": N_("joined with a similar report"),
    "withdrawn": N_("withdrawn"),
    "rejected": N_("closed without action"),
}
