"""The python-telegram-bot adapter: translate updates to engine events and send replies."""
