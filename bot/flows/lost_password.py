"""A lost election password: the portal's reset after entering the identifier."""

from bot.flows.base import Flow, Step

FLOW = Flow(
    name="lost_password",
    initial="how",
    steps=(Step("how", buttons=("rules",), goto={"rules": "password"}),),
)
