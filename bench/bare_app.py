"""The floor for bench/sms_intake.py: the SMS webhook's HTTP work and nothing else.

One POST route at the real path that parses the form with the app's own strict
parser (`bots.sms.twilio_form.read_form`) and answers with the app's own TwiML
renderer (`bots.sms.routes.twiml`), using a fixed text as long as the app's first
reply to a new report. No signature check, no database, no writer thread.

Served exactly as `samleng serve` serves the app (same uvicorn.run arguments, same
logging set-up), so the difference between the two is the intake path itself:

    .venv/bin/python bench/bare_app.py --host 127.0.0.1 --port 8001
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi import FastAPI, Request, Response

from bots.sms import twilio_form
from bots.sms.routes import twiml
from service.intake import texts
from service.kit.i18n import gettext

# Same length as the app's answer to a first English message (ASK_CATEGORY), different text.
REPLY_TEXT = "x" * len(gettext("en", texts.ASK_CATEGORY))

app = FastAPI(title="samleng-bare", docs_url=None, redoc_url=None, openapi_url=None)


@app.post("/webhooks/twilio/sms")
async def inbound_sms(request: Request) -> Response:
    await twilio_form.read_form(request)
    return twiml(REPLY_TEXT)


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    from service.ops.logs import configure_logging
    from service.ops.runtime import tune_gc

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--forwarded-allow-ips", default="127.0.0.1")
    parser.add_argument("--log-level", default="WARNING", help="root log level (SAMLENG_LOG_LEVEL for the app)")
    args = parser.parse_args(argv)
    # Mirror service.cli.cmd_serve: configure_logging(settings.log_level), then the same uvicorn.run call.
    configure_logging(args.log_level)
    tune_gc()  # as the app's lifespan does
    uvicorn.run(app, host=args.host, port=args.port, log_level="info",
                proxy_headers=True, forwarded_allow_ips=args.forwarded_allow_ips)
    return 0


if __name__ == "__main__":
    sys.exit(main())
