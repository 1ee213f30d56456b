"""Evaluation of the classifier on a labelled file, and cross-validation on the corpus."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.intent.classifier import Guess, IntentModel, model
from bot.intent.corpus import Example
from bot.intent.decision import Decision, decide

CONFUSIONS = 10


@dataclass
class Report:
    """Figures over labelled examples: what `votebot intent --eval` prints."""

    total: int = 0
    correct: int = 0
    confidently_wrong: int = 0  # answered directly, with the wrong intent
    clarified: int = 0
    clarified_right: int = 0  # the first button of the clarify screen is the right intent
    fallback: int = 0
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    predicted: Counter[str] = field(default_factory=Counter)
    expected: Counter[str] = field(default_factory=Counter)
    hits: Counter[str] = field(default_factory=Counter)

    def add(self, expected: str, decision: Decision) -> None:
        """Count one example."""
        got = decision.intent
        self.total += 1
        self.expected[expected] += 1
        self.predicted[got] += 1
        if got == expected:
            self.correct += 1
            self.hits[got] += 1
        else:
            self.confusions[(expected, got)] += 1
        if decision.kind == "answer" and got != expected:
            self.confidently_wrong += 1
        elif decision.kind == "clarify":
            self.clarified += 1
            self.clarified_right += got == expected
        elif decision.kind == "fallback":
            self.fallback += 1

    @property
    def accuracy(self) -> float:
        """Share of examples whose likeliest intent is right."""
        return self.correct / self.total if self.total else 0.0

    @property
    def confidently_wrong_rate(self) -> float:
        """Share of examples answered directly with the wrong intent."""
        return self.confidently_wrong / self.total if self.total else 0.0

    def format(self) -> str:
        """The report as printed by the CLI."""
        n = self.total or 1
        lines = [
            f"examples\t{self.total}",
            f"accuracy\t{self.accuracy:.3f}",
            f"confidently_wrong\t{self.confidently_wrong_rate:.3f}",
            f"answered\t{(self.total - self.clarified - self.fallback) / n:.3f}",
            f"clarify\t{self.clarified / n:.3f}\t(first button right: {self.clarified_right})",
            f"fallback\t{self.fallback / n:.3f}",
            "",
            "intent\tprecision\trecall\tsupport",
        ]
        for intent in sorted(self.expected | self.predicted):
            p = self.hits[intent] / self.predicted[intent] if self.predicted[intent] else 0.0
            r = self.hits[intent] / self.expected[intent] if self.expected[intent] else 0.0
            lines.append(f"{intent}\t{p:.2f}\t{r:.2f}\t{self.expected[intent]}")
        lines += ["", "expected\tpredicted\tcount"]
        for (want, got), count in self.confusions.most_common(CONFUSIONS):
            lines.append(f"{want}\t{got}\t{count}")
        return "\n".join(lines)


def evaluate(
    examples: Sequence[Example], classify: Callable[[str], Guess] | None = None
) -> Report:
    """The report of the shipped model (or `classify`) on labelled examples."""
    classify = classify or model().classify
    report = Report()
    for intent, text in examples:
        report.add(intent, decide(classify(text)))
    return report


def cross_validate(examples: Sequence[Example], folds: int = 5) -> Report:
    """Train on all folds but one, evaluate on it, in turn (the same split every run)."""
    report = Report()
    for k in range(folds):
        train = [e for i, e in enumerate(examples) if i % folds != k]
        fitted = IntentModel.fit(train)
        for i in range(k, len(examples), folds):
            intent, text = examples[i]
            report.add(intent, decide(fitted.classify(text)))
    return report
