"""One person's updates are handled one at a time, whatever moment the next one arrives.

Found by the whole suite (tests/faults/test_telegram_replies.py, now and then): a person who
answers the moment a reply reaches them can have their next update handled beside the one still
finishing. The next update then found the earlier one not yet marked done, handled it again as
"perhaps half handled", and sent its reply a second time.

Here the fake Bot API lets the person answer *while* the bot is still sending its reply, which
makes the moment certain instead of lucky.
"""

from __future__ import annotations

import threading
import time

import httpx

from tests.support.telegram_fake import Call, TelegramUser


def test_an_answer_sent_while_the_last_reply_is_on_its_way_waits_its_turn(telegram_server, bot_api, engine) -> None:  # type: ignore[no-untyped-def]
    user = TelegramUser(client=httpx.Client(base_url=telegram_server.base_url, timeout=60), api=bot_api,
                        user_id=7_312_000_001)
    answers = iter(["0", "0"])  # skip the category, then skip the place
    posted = threading.Event()

    def answer_before_the_reply_lands(call: Call) -> bool:
        if call.method != "sendMessage":
            return False
        text = next(answers, None)
        if text is None:
            bot_api.before_answer = None
            posted.set()
            return False
        user.send(text)  # the person answers while the bot still waits for Telegram's answer
        # Give the bot time to take the new update in (and, if it would, to handle it beside
        # the one still sending) before Telegram's answer lets the first one finish.
        time.sleep(1.0)
        return False

    bot_api.before_answer = answer_before_the_reply_lands
    try:
        user.send("The pharmacy had no TB medicine for two weeks")
        assert posted.wait(60), "the bot did not reach its third reply"
        time.sleep(1.0)  # anything sent twice would have gone out by now
    finally:
        bot_api.before_answer = None
        user.client.close()
    sent = bot_api.sent_texts()
    assert len(sent) == 3, f"three messages, three replies, not {sent!r}"
    assert "What is it about" in sent[0] and "Where did it happen" in sent[1] and "contact you" in sent[2]
