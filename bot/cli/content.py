"""`votebot intent` and `votebot diagram`: the content editors' tools."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services import Services


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare `diagram` and `intent`."""
    diagram = sub.add_parser("diagram", help="print a flow as a Mermaid diagram")
    diagram.add_argument("flow", help="flow name, e.g. webmel, or composer (/diffusion)")
    diagram.add_argument(
        "--conditions", action="store_true", help="name each arrow's conditions too"
    )
    intent = sub.add_parser(
        "intent",
        help="print the intent, confidence and decision of a text (or of each stdin line)",
    )
    intent.add_argument("text", nargs="?", help="a voter's message; omitted: read stdin")
    intent.add_argument(
        "--eval", metavar="FILE", help="evaluate on a labelled intent<TAB>text file"
    )
    intent.add_argument(
        "--cross-validate", action="store_true", help="5-fold cross-validation on the corpus"
    )
    intent.add_argument(
        "--export-feedback",
        action="store_true",
        help="print the voters' clarify choices as intent<TAB>text lines (from VOTEBOT_DB)",
    )


def intent(args: argparse.Namespace) -> int:
    """Classify a text or each stdin line, or evaluate the classifier."""
    from pathlib import Path

    from bot.intent import classify, decide
    from bot.intent.corpus import load_corpus, load_file
    from bot.intent.evaluate import cross_validate, evaluate

    if args.eval:
        print(evaluate(load_file(Path(args.eval))).format())
        return 0
    if args.cross_validate:
        print(cross_validate(load_corpus()).format())
        return 0
    if args.text is not None:
        decision = decide(classify(args.text))
        print(decision.intent)
        print(f"{decision.guess.confidence:.2f}")
        print(" ".join((decision.kind, *decision.options)))
        return 0
    for line in sys.stdin:
        decision = decide(classify(line.rstrip("\n")))
        print(f"{decision.intent}\t{decision.guess.confidence:.2f}\t{decision.kind}", flush=True)
    return 0


async def export_feedback(services: Services, args: argparse.Namespace) -> int:
    """The voters' "did you mean" choices as intent<TAB>text lines."""
    for row in await services.store.intent_feedback():
        text = " ".join(row.text.split())
        print(f"{row.intent}\t{text}")
    return 0


def diagram(args: argparse.Namespace) -> int:
    """Print a flow as a Mermaid diagram (the voter flows and the broadcast composer)."""
    from bot.diagram import mermaid
    from bot.flows import composer, default_flows

    flows = {f.name: f for f in (*default_flows(), composer.FLOW)}
    if args.flow not in flows:
        names = ", ".join(flows)
        print(f"votebot: unknown flow {args.flow!r} (flows: {names})", file=sys.stderr)
        return 2
    print(mermaid(flows[args.flow], conditions=args.conditions))
    return 0
