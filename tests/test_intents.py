"""The learned intent classifier: corpus, held-out figures, cross-validation, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.flows import default_flows
from bot.flows.info import INTENT_STEPS
from bot.intent import IntentModel, classify, decide, model, normalise
from bot.intent.corpus import load_corpus, load_file
from bot.intent.evaluate import cross_validate, evaluate
from bot.intent.language import is_english
from bot.intent.train import Fitted, export, fit
from bot.redact import has_secret

HOLDOUT = Path(__file__).parent / "data" / "intents_holdout.tsv"


def test_the_corpus_is_large_and_every_intent_leads_to_a_real_step() -> None:
    corpus = load_corpus()
    assert len(corpus) >= 3000
    intents = {intent for intent, _ in corpus}
    assert intents == set(INTENT_STEPS)
    flows = default_flows()
    for target in INTENT_STEPS.values():
        flow, _, state = target.partition(".")
        assert flows.has(flow, state), target


def test_no_corpus_or_held_out_line_looks_like_a_secret() -> None:
    flagged = [t for _, t in [*load_corpus(), *load_file(HOLDOUT)] if has_secret(t)]
    assert flagged == []


def test_the_held_out_file_is_never_trained_on() -> None:
    trained = {normalise(t) for _, t in load_corpus()}
    held_out = load_file(HOLDOUT)
    assert len(held_out) >= 150
    assert {i for i, _ in held_out} == set(INTENT_STEPS)
    assert [t for _, t in held_out if normalise(t) in trained] == []


def test_held_out_accuracy_and_confidently_wrong_rate() -> None:
    report = evaluate(load_file(HOLDOUT))
    assert report.accuracy >= 0.92
    assert report.confidently_wrong_rate <= 0.03


def test_cross_validation_on_the_corpus_stays_above_its_floor() -> None:
    report = cross_validate(load_corpus())
    assert report.accuracy >= 0.94
    assert report.confidently_wrong_rate <= 0.03


@pytest.fixture(scope="module")
def fitted() -> Fitted:
    return fit(load_corpus())


def test_training_is_reproducible(fitted: Fitted) -> None:
    again = export(fit(load_corpus()))
    first = export(fitted)
    assert first.terms == again.terms and first.classes == again.classes
    assert first.options == again.options
    for a, b in [(first.coef, again.coef), (first.intercept, again.intercept)]:
        assert np.array_equal(a, b)


def test_the_bot_scores_every_corpus_and_held_out_line_as_scikit_learn_does(
    fitted: Fitted,
) -> None:
    replayed = IntentModel(export(fitted))  # numpy only: what the running bot uses
    texts = [t for _, t in [*load_corpus(), *load_file(HOLDOUT)]]
    texts += ["", "zzz", "  é  É  ", "Œuvre À l’École", "where can I find my NUMEN"]
    features = fitted.features([normalise(t) for t in texts])
    decision = fitted.classifier.decision_function(features)
    proba = fitted.classifier.predict_proba(features)
    assert replayed.intents == tuple(fitted.classifier.classes_)
    for i, text in enumerate(texts):
        scores, _ = replayed.scores(text)
        assert np.allclose(scores, decision[i], rtol=0, atol=1e-9), text
        assert np.allclose(replayed.probabilities(text)[0], proba[i], rtol=0, atol=1e-9), text


def test_the_analyzers_are_scikit_learn_s(fitted: Fitted) -> None:
    replayed = IntentModel(export(fitted))
    for text in ["a", "  deux   espaces ", "l ecole d oeuvre 93", "x" * 12, "Été À"]:
        assert replayed.chars.analyse(text) == fitted.chars.build_analyzer()(text)
        assert replayed.words.analyse(text) == fitted.words.build_analyzer()(text)


# Every example of issue 10: the right answer, or a clarify whose first button is right.
ISSUE_EXAMPLES = [
    (t, i) for i, t in load_file(Path(__file__).parent / "data" / "issue_examples.tsv")
]


@pytest.mark.parametrize(("text", "intent"), ISSUE_EXAMPLES)
def test_every_example_of_the_issue_is_answered_or_clarified_rightly(
    text: str, intent: str
) -> None:
    decision = decide(classify(text))
    assert decision.intent == intent
    assert decision.kind in ("answer", "clarify")


def test_gibberish_falls_back() -> None:
    for text in ("xkcd zzz 42", "zorglub", "qsdf ghj"):
        assert decide(classify(text)).kind == "fallback", text


def test_normalisation_folds_and_expands_sms_spelling() -> None:
    assert normalise("Œuvre À l’École, MDP stp !") == "oeuvre a l ecole mot de passe s il te plait"
    assert normalise("kan c koi") == "quand c est quoi"


def test_english_is_told_from_french() -> None:
    assert is_english("where can I find my NUMEN number")
    assert is_english("No confirmation email arrived in my ac-creteil inbox")
    assert not is_english("où est le lien du portail")
    assert not is_english("STOP")


def test_the_model_is_built_once() -> None:
    assert model() is model()


def _cli(*args: str, stdin: str | None = None, cwd: Path | None = None) -> str:
    run = subprocess.run(
        [sys.executable, "-m", "bot", "intent", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
        env=os.environ,
    )
    return run.stdout


def test_cli_prints_intent_confidence_and_decision(tmp_path: Path) -> None:
    intent, confidence, decision = _cli("lien du portail stp", cwd=tmp_path).splitlines()
    assert intent == "portal_access" and 0.55 <= float(confidence) <= 1
    assert decision == "answer"
    out = _cli(stdin="merci\nj'ai perdu mon code de vote\nzorglub\n", cwd=tmp_path)
    rows = [line.split("\t") for line in out.splitlines()]
    assert [(r[0], r[2]) for r in rows[:2]] == [("thanks", "answer"), ("lost_vote_code", "answer")]
    assert rows[2][2] == "fallback" and len(rows) == 3


def test_cli_eval_prints_accuracy_per_intent_figures_and_confusions(tmp_path: Path) -> None:
    labelled = tmp_path / "few.tsv"
    labelled.write_text("vote_dates\tkan ca ferme\nthanks\tpour qui voter\n", encoding="utf-8")
    out = _cli("--eval", str(labelled), cwd=tmp_path)
    assert "accuracy\t0.500" in out
    assert "confidently_wrong\t0.500" in out
    assert "vote_dates\t1.00\t1.00\t1" in out
    assert "thanks\tvoting_advice\t1" in out
