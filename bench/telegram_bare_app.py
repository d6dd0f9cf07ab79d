"""The floor for bench/telegram_webhook.py: the Telegram webhook's HTTP work and nothing else.

One POST route at the real path that checks the secret header the same way
(`hmac.compare_digest`), parses the JSON body and answers an empty 200, as the app
does. No database, no writer thread, no bot. Served exactly as `samleng serve`
serves the app (same uvicorn.run arguments, same logging set-up):

    .venv/bin/python bench/telegram_bare_app.py --host 127.0.0.1 --port 8001 --secret S
"""

from __future__ import annotations

import argparse
import hmac
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi import FastAPI, HTTPException, Request, Response

app = FastAPI(title="samleng-telegram-bare", docs_url=None, redoc_url=None, openapi_url=None)
SECRET = {"value": ""}


@app.post("/webhooks/telegram")
async def telegram_webhook(request: Request) -> Response:
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not hmac.compare_digest(given.encode(), SECRET["value"].encode()):
        raise HTTPException(403, "invalid secret token")
    data = json.loads(await request.body())
    if not isinstance(data.get("update_id"), int):
        raise HTTPException(400, "not a Telegram update")
    return Response(status_code=200)


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    from service.ops.logs import configure_logging

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--forwarded-allow-ips", default="127.0.0.1")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    SECRET["value"] = args.secret
    configure_logging(args.log_level)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info",
                proxy_headers=True, forwarded_allow_ips=args.forwarded_allow_ips)
    return 0


if __name__ == "__main__":
    sys.exit(main())
