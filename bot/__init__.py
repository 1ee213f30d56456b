"""Votebot: a Telegram assistant for the online professional elections."""
