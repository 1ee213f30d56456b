"""The python-telegram-bot adapter: translate updates to engine events and send replies."""

import os

# Opt in to PTB's future behaviour (durations as timedelta, e.g. RetryAfter.retry_after) so a
# 429 from Telegram does not emit a deprecation warning; bot.telegram.send reads both forms.
os.environ.setdefault("PTB_TIMEDELTA", "1")
