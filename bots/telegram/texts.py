"""Texts only the Telegram bot sends (gettext msgids; English source, Khmer in the catalogue).

The dialogue's own questions and answers come from service/intake/texts.py, shared with SMS.
"""

from service.kit.i18n import N_

GREETING = N_(
    "Samleng: tell us about a problem with a health service. Your report goes to a community "
    "organisation that follows it up with the responsible authority.\n"
    "You stay anonymous: we never keep your name, number or Telegram account. "
    "Write what happened, or press /report."
)
REPORT_PROMPT = N_("Write what happened, in your own words. You do not need to give your name.")
HELP = N_(
    "Write what happened to make a report. /report: a new report. /status code: check a report. "
    "/delete code: withdraw it. /cancel: stop the questions (what you gave is kept). "
    "/language: Khmer or English. You can also send a photo or PDF (a receipt, for example)."
)
CHOOSE_LANGUAGE = N_("Choose your language.")
CANCELLED = N_("Stopped. What you gave is kept in the report. Write again any time to make a new report.")
NOTHING_TO_CANCEL = N_("There is nothing to stop. Write what happened to make a report.")
ALREADY_ANSWERED = N_("This question was already answered.")
SKIP = N_("Skip")
CHOSEN = N_("Your answer: {answer}")
PLACE_ALL = N_("All of {place}")
PLACE_BACK = N_("Back")
PLACE_OTHER_COUNTRY = N_("Another country")
LOCATION_USED = N_("Thank you. We kept only the nearest place, {place}, and deleted your location.")
LOCATION_NO_PLACE = N_("Thank you. No place we know is near that location; your location is deleted.")
LOCATION_NOT_NOW = N_("We only use a location to answer where it happened. Your location is deleted.")
UNSUPPORTED = N_("Please write in words, or send a photo or PDF.")
EVIDENCE_SAVED = N_(
    "Thank you, the file is saved with the report. We removed its hidden details (place, camera, time)."
)
EVIDENCE_NO_REPORT = N_("Please first write what happened; then send the photo or PDF.")
EVIDENCE_TOO_LARGE = N_("This file is too large (limit {limit} MB). Please send a smaller photo or PDF.")
EVIDENCE_TYPE = N_("We can only accept photos (JPEG, PNG, WebP) and PDF files. This file was not saved.")
EVIDENCE_UNREADABLE = N_("We could not read this file (damaged or password-protected). It was not saved.")
EXIT_OFFER = N_(
    "Do you want us to delete this conversation from this chat? It removes our messages and yours "
    "from both sides, so nobody who sees your phone can read it."
)
EXIT_DELETE = N_("Delete the conversation")
EXIT_KEEP = N_("Keep it")
EXIT_REMINDER = N_(
    "First write down your receipt code {code} somewhere safe: it will not be shown again. "
    "You need it to check or withdraw your report."
)
EXIT_CONFIRM = N_("I noted it, delete now")
EXIT_KEPT = N_("OK, the conversation stays in this chat.")
EXIT_DONE = N_("Deleted.")
EXIT_EXPIRED = N_("This offer has expired.")
LINKED = N_("You are linked as an outreach worker. Reports you send from now on are marked as assisted.")
LINK_INVALID = N_("This link code is unknown, already used or expired. Ask for a new one.")
