"""Pure flow tests: flows are consistent data on one shared machine per kind."""

from datetime import datetime

import pytest

from bot import callbacks
from bot.flows import Context, Flow, FlowMachine, Step, Transition, default_flows
from bot.settings import PARIS

FLOWS = default_flows()
CTX = Context(now=datetime(2022, 11, 2, tzinfo=PARIS), phase="activation", profile={})


@pytest.mark.parametrize("flow", list(FLOWS), ids=lambda f: f.name)
def test_every_transition_and_jump_lands_on_a_real_step(flow: Flow) -> None:
    names = {s.name for s in flow.steps}
    assert flow.initial in names
    for t in flow.transitions:
        assert t.source in names and t.dest in names, t
    for step in flow.steps:
        for trigger in step.buttons:
            fires = any(t.trigger == trigger and t.source == step.name for t in flow.transitions)
            assert fires or trigger in step.goto, (
                f"{flow.name}.{step.name}: {trigger} goes nowhere"
            )
        for dest in step.goto.values():
            target, _, state = dest.partition(".")
            assert target in FLOWS and (not state or FLOWS.has(target, state)), dest


@pytest.mark.parametrize("flow", list(FLOWS), ids=lambda f: f.name)
def test_callback_data_of_every_button_fits_telegram_limit(flow: Flow) -> None:
    for step in flow.steps:
        for trigger in (*flow.triggers(step.name), "back", "menu"):
            data = callbacks.encode(FLOWS.version, flow.name, step.name, trigger)
            assert len(data.encode()) <= 64
            assert callbacks.decode(data) == callbacks.Press(
                FLOWS.version, flow.name, step.name, trigger
            )


def test_forged_callback_data_is_not_decoded() -> None:
    for forged in ["", "x", "a|b|c", "a|b|c|d|e", "v|menu|main|<script>", "v|menu||go"]:
        assert callbacks.decode(forged) is None


def test_one_shared_machine_serves_every_voter_and_keeps_no_model_of_theirs() -> None:
    machine = FLOWS.machines["webmel"]
    assert machine.fire("has_address", "no", CTX) == "open_webmel"
    assert machine.fire("has_address", "yes", CTX) == "done"
    assert machine.fire("open_webmel", "yes", CTX) is None  # not a trigger of that state
    assert machine.fire("has_address", "no", CTX) == "open_webmel"  # the state is the caller's
    assert len(machine.machine.models) == 1  # its own, whatever the number of voters


def test_conditions_are_pure_functions_of_the_context() -> None:
    flow = Flow(
        name="demo",
        initial="a",
        steps=(Step("a", buttons=("go",)), Step("open"), Step("closed")),
        transitions=(
            Transition("go", "a", "open", conditions=(lambda ctx: ctx.phase == "voting",)),
            Transition("go", "a", "closed"),
        ),
    )
    machine = FlowMachine(flow)
    assert machine.fire("a", "go", CTX) == "closed"
    voting = Context(now=CTX.now, phase="voting", profile={})
    assert machine.fire("a", "go", voting) == "open"


def test_version_changes_when_a_flow_changes() -> None:
    from bot.flows import Flows, menu, webmel

    other = Flows((menu.FLOW, Flow("webmel", "has_address", webmel.FLOW.steps[:1])))
    assert other.version != FLOWS.version
