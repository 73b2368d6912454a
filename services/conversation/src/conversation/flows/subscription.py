"""My subscription (one state) and paying for a plan (three).

  subscription.show  plan, status, expiry, credits left; options Subscribe / Menu
  pay.plan           plan list with prices                a plan -> confirm
  pay.confirm        "Pay ₦X for Monthly?"                YES -> RequestPlanPayment; the
                                                          link arrives when payments made it
  (the third step, the link, and the start of the subscription come as events)

Paying needs a profile (Paystack needs an email), so registration comes first.
"""

from __future__ import annotations

from conversation import copy, intents
from conversation.effects import RequestPlanPayment
from conversation.engine import (
    MENU,
    Context,
    Conversation,
    Input,
    Plan,
    Reply,
    StateHandler,
    Turn,
    main_menu,
    not_understood,
    respond,
)
from conversation.money import format_money
from shared.events import Option

FLOW = "pay"
SHOW = "subscription.show"
PLAN = "pay.plan"
CONFIRM = "pay.confirm"

CONFIRM_OPTIONS = (Option(id="yes", title="Yes, pay now"), Option(id="no", title="No, not now"))
SHOW_OPTIONS = (Option(id="pay", title="Subscribe / renew"), Option(id="menu", title="Main menu"))


def _plan_options(ctx: Context) -> tuple[Option, ...]:
    return tuple(
        Option(
            id=plan.code,
            title=plan.name,
            description=(
                f"{format_money(plan.price_minor, plan.currency)} {plan.description}".strip()
            ),
        )
        for plan in ctx.plans
    )


def show(conversation: Conversation, ctx: Context) -> Turn:
    view = ctx.subscription
    if view is None:
        text = copy.no_subscription(ctx.free_credits_left)
    else:
        active = view.covers(ctx.now)
        text = copy.subscription_status(
            view.plan_name, active, view.ends_at, view.credits_left, ctx.free_credits_left
        )
    return respond(
        conversation,
        SHOW,
        Reply(text, SHOW_OPTIONS),
        flow_started="subscription",
        flow_completed="subscription",
    )


def showing(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    if message.choice == "pay":
        return choose_plan(conversation, ctx)
    if message.choice == "menu":
        return main_menu(conversation, ctx)
    from conversation.flows import menu

    return menu.in_menu(conversation, message, ctx)


def choose_plan(conversation: Conversation, ctx: Context) -> Turn:
    from conversation.flows import registration

    if ctx.profile is None:
        return registration.start(conversation, ctx, then="pay")
    if not ctx.plans:
        return main_menu(conversation, ctx, copy.NO_PLANS)
    return respond(
        conversation, PLAN, Reply(copy.CHOOSE_PLAN, _plan_options(ctx)), flow_started=FLOW
    )


def _plan(ctx: Context, code: str | None) -> Plan | None:
    return next((plan for plan in ctx.plans if plan.code == code), None)


def choosing_plan(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    plan = _plan(ctx, message.choice) or next(
        (p for p in ctx.plans if intents.normalise(p.name) == intents.normalise(message.text)),
        None,
    )
    if plan is None:
        return not_understood(
            respond(conversation, PLAN, Reply(copy.CHOOSE_PLAN_AGAIN, _plan_options(ctx)))
        )
    text = copy.confirm_plan(plan.name, format_money(plan.price_minor, plan.currency))
    return respond(conversation, CONFIRM, Reply(text, CONFIRM_OPTIONS), data={"plan": plan.code})


def confirming(conversation: Conversation, message: Input, ctx: Context) -> Turn:
    plan = _plan(ctx, str(conversation.data.get("plan", "")))
    if plan is None:
        return choose_plan(conversation, ctx)
    if message.choice == "yes" or message.word is intents.Word.YES:
        return respond(
            conversation,
            MENU,
            Reply(copy.plan_payment_requested(plan.name)),
            effects=(RequestPlanPayment(plan.code),),
            flow_completed=FLOW,
        )
    if message.choice == "no" or message.word is intents.Word.NO:
        return main_menu(conversation, ctx, copy.PAY_LATER)
    text = copy.confirm_plan(plan.name, format_money(plan.price_minor, plan.currency))
    return not_understood(
        respond(conversation, CONFIRM, Reply(text, CONFIRM_OPTIONS), data={"plan": plan.code})
    )


STATES: dict[str, StateHandler] = {SHOW: showing, PLAN: choosing_plan, CONFIRM: confirming}
