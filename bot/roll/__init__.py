"""The electoral roll: name keys (`keys`), look-ups from the chat and the CLI (`lookup`), the
CSV import (`importer`). The store holds the rows (store/roll.py); the CLI prints them."""

from bot.roll.importer import ImportReport, RollImportError, import_roll
from bot.roll.keys import NameKey
from bot.roll.lookup import Answer, RollLookup, extract_name, find, on_ballot

__all__ = [
    "Answer",
    "ImportReport",
    "NameKey",
    "RollImportError",
    "RollLookup",
    "extract_name",
    "find",
    "import_roll",
    "on_ballot",
]
