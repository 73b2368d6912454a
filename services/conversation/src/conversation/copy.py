"""Every sentence the desk says to a user, in one place."""

from __future__ import annotations

from datetime import datetime

from shared.events import MediaRejection, Option

MENU_OPTIONS = (
    Option(id="shop", title="Shop study packs"),
    Option(id="homework", title="Submit homework"),
    Option(id="support", title="Chat with support"),
    Option(id="subscription", title="My subscription"),
    Option(id="faq", title="FAQ"),
    Option(id="pay", title="Subscribe / pay"),
)

CONFIRM_OPTIONS = (
    Option(id="yes", title="Yes, place order"),
    Option(id="no", title="No, keep shopping"),
)


def welcome(business_name: str) -> str:
    return f"Welcome to {business_name}! 👋 How can we help you today? Reply with a number."


def menu(business_name: str) -> str:
    return f"{business_name} — main menu. Reply with a number:"


def expired(idle_seconds: int) -> str:
    span = f"{idle_seconds // 60} minutes" if idle_seconds >= 120 else f"{idle_seconds} seconds"
    return f"Your last session ended after {span} without a reply, so we started again."


CANCELLED = "Cancelled. Back to the main menu:"
NOT_YET = "That part of the desk opens soon. Meanwhile you can shop our study packs:"
UNKNOWN_MENU = "Sorry, I didn't catch that. Reply with a number from the menu, or HELP."
HELP = (
    "Send a number to choose an option. Words that work anywhere: MENU (main menu), "
    "CANCEL (go back), HELP (this message), STOP (no more messages), START (back in)."
)


def help_text(role: str) -> str:
    if role == "tutor":
        return HELP + " ACCEPT takes the newest homework offered to you; WORK lists your work."
    if role == "agent":
        return HELP + " TICKETS lists open tickets; END closes the chat you are in."
    return HELP


UNSUPPORTED = (
    "Sorry, we can only read text and photos here (not voice notes, locations, stickers "
    "or documents). Please type your message or send a photo."
)
OPTED_IN = "Welcome back! You will get our messages again."
FLOOD = (
    "You're sending messages faster than we can read them. Please wait a moment, then "
    "send your message again."
)


def opted_out(business_name: str) -> str:
    return (
        f"You will get no more messages from {business_name}. Send START at any time to come back."
    )


PRODUCT_LIST = (
    "Study packs. To add one, send its number × quantity, e.g. 1 x 10. "
    "Send CART to see your cart or PLACE ORDER to check out."
)
NO_PRODUCTS = "There are no study packs on sale right now. Please check again later."
UNKNOWN_SHOP = "Sorry, I didn't catch that. Send item × quantity (e.g. 1 x 10), CART, or MENU."


def no_such_item(item: int, count: int) -> str:
    return f"There is no item {item}. Choose a number from 1 to {count}:"


def bad_quantity(maximum: int) -> str:
    return f"Please send a quantity from 1 to {maximum}."


def ask_quantity(name: str) -> str:
    return f"How many of {name}? Send a number, e.g. 2."


def added(quantity: int, name: str, cart_total: str, lines: int) -> str:
    items = "item" if lines == 1 else "items"
    return (
        f"Added {quantity} × {name} to your cart.\n"
        f"Cart: {lines} {items}, total {cart_total}.\n"
        "Add more, send CART to review, or PLACE ORDER to check out."
    )


def cart(lines: list[str], total: str) -> str:
    body = "\n".join(lines)
    return (
        f"Your cart:\n{body}\nTotal: {total}\n"
        "Send REMOVE and a line number to take one out, CLEAR to empty it, "
        "or PLACE ORDER to check out."
    )


EMPTY_CART = "Your cart is empty. Send item × quantity to add a study pack, e.g. 1 x 10."
CLEARED = "Your cart is now empty."


def removed(name: str) -> str:
    return f"Removed {name} from your cart."


def no_such_line(line: int) -> str:
    return f"There is no line {line} in your cart."


def order_summary(lines: list[str], total: str) -> str:
    body = "\n".join(lines)
    return f"Order summary:\n{body}\nTotal: {total}\n\nPlace this order?"


CONFIRM_HINT = "Reply YES to place the order or NO to keep shopping."
KEEP_SHOPPING = "No problem, your cart is kept. Add more or send PLACE ORDER when ready."


def order_placed(reference: str, total: str) -> str:
    return (
        f"✅ Thank you! Your order {reference} is being processed.\n"
        f"Total: {total}. Send MENU for anything else."
    )


# --- registration ---------------------------------------------------------------

REGISTER_NAME = "First, let's set up your profile. What is your full name?"
REGISTER_NAME_AGAIN = "Please send your full name (2 to 100 letters), e.g. Ada Obi."
REGISTER_LEVEL_AGAIN = "Please choose your level from the list:"
REGISTER_EMAIL = "What is your email address? We send receipts and payment links there."
REGISTER_EMAIL_AGAIN = (
    "That doesn't look like an email address. Please send one like ada@example.com."
)


def register_level(first_name: str) -> str:
    return f"Thanks, {first_name}. What level are you at?"


def register_summary(name: str, level: str, email: str) -> str:
    return (
        f"Please check your details:\nName: {name}\nLevel: "
        f"{level}\nEmail: {email}\n\nIs this right?"
    )


def registered(first_name: str) -> str:
    return f"✅ You're registered, {first_name}!"


# --- homework ---------------------------------------------------------------------

NO_CREDITS = (
    "You have no free homework credits left and no active subscription. "
    "Subscribe to keep sending homework:"
)
NO_CREDITS_OPTIONS = (
    Option(id="pay", title="Subscribe / pay"),
    Option(id="subscription", title="My subscription"),
)
HOMEWORK_SUBJECT = "Which subject is your homework in?"
HOMEWORK_SUBJECT_AGAIN = "Please choose a subject from the list:"
CHECKING_PHOTO = "Checking your photo…"
STILL_CHECKING = "Still checking your photo, one moment please…"
PHOTO_ACCEPTED = "📷 Photo received."
HOMEWORK_NOTE = "Anything the tutor should know? Send a short note, or SKIP."
HOMEWORK_CANCELLED = "Homework not submitted."


def homework_question(subject: str) -> str:
    return (
        f"{subject}: type your question, or send a clear photo "
        "of it (JPG, PNG or WebP, up to 5 MB)."
    )


def photo_refused(rejection: MediaRejection | None) -> str:
    reasons = {
        MediaRejection.TOO_LARGE: "it is larger than 5 MB",
        MediaRejection.UNSUPPORTED_TYPE: "it is not a JPG, PNG or WebP image",
        MediaRejection.UNREADABLE: "the image is damaged or incomplete",
        MediaRejection.DOWNLOAD_FAILED: "we could not download it",
    }
    reason = reasons.get(rejection, "we could not read it") if rejection else "we could not read it"
    return (
        f"Sorry, we can't use that photo: {reason}. Please send "
        "another photo, or type the question."
    )


def covered_by_plan(plan_name: str, credits_left: int | None) -> str:
    if credits_left is None:
        return f"Covered by your {plan_name} subscription."
    return f"Uses 1 of your {credits_left} {plan_name} credits."


def uses_free_credit(left: int) -> str:
    return f"Uses 1 of your {left} free credits."


def homework_summary(subject: str, question: str, has_photo: bool, note: str, paying: str) -> str:
    lines = [f"Subject: {subject}"]
    if has_photo:
        lines.append("Question: 📷 photo" + (f" — {question}" if question else ""))
    else:
        lines.append(f"Question: {question}")
    if note:
        lines.append(f"Note: {note}")
    body = "\n".join(lines)
    return f"Please check your homework:\n{body}\n{paying}\n\nSubmit it?"


def homework_submitted(reference: str, paid_with: str, remaining: int | None) -> str:
    if paid_with == "subscription":
        left = "" if remaining is None else f" {remaining} subscription credits left."
        paying = f"Covered by your subscription.{left}"
    else:
        paying = f"1 free credit used, {remaining} left."
    return (
        f"✅ Homework submitted. Reference: {reference}.\n{paying}\n"
        "A tutor will send the solution here."
    )


def thanks_for_rating(stars: int) -> str:
    return f"Thank you for rating the solution {stars}/5! Anything else?"


def homework_offered(
    reference: str, subject: str, level: str, question: str, note: str, minutes: int
) -> str:
    parts = [f"📚 New homework {reference} ({subject}, {level})"]
    parts.append(f"Question: {question}" if question else "Question: see the photo")
    if note:
        parts.append(f"Note: {note}")
    parts.append(f"Reply ACCEPT within {minutes} minutes to take it.")
    return "\n".join(parts)


def homework_taken_away(reference: str) -> str:
    return f"Homework {reference} was not accepted in time and went to another tutor."


def solution_ready(reference: str, text: str) -> str:
    body = f"\n{text}" if text else " (see the photo)"
    return (
        f"✅ Your tutor's solution to {reference}:{body}\n\nHow "
        "helpful was it? Rate it from 1 to 5:"
    )


# --- support ------------------------------------------------------------------------

SUPPORT_DESCRIBE = "Please describe the problem in one message, and we'll open a ticket."
SUPPORT_TEXT_ONLY = "Please type your message."
SUPPORT_QUEUED = "Thanks, that's added to your ticket. An agent will reply here soon."


def ticket_opened(reference: str) -> str:
    return (
        f"🎫 Ticket {reference} is open. An agent will reply here; anything you send now "
        "goes to them. Send END to close the chat."
    )


def ticket_resumed(reference: str) -> str:
    return (
        f"Your ticket {reference} is still open: anything you send "
        "goes to the agent. Send END to close it."
    )


def ticket_was_closed(reference: str) -> str:
    return f"Ticket {reference} is closed."


def ticket_closed_by_student(reference: str) -> str:
    return f"Ticket {reference} closed. Thanks for chatting with us!"


def ticket_closed_by_agent(reference: str) -> str:
    return f"You closed ticket {reference}."


def ticket_closed_for_student(reference: str) -> str:
    return f"Support closed ticket {reference}. Send MENU for anything else."


def ticket_closed_for_agent(reference: str) -> str:
    return f"The student closed ticket {reference}."


def new_ticket(reference: str, who: str, description: str) -> str:
    return f"🎫 New ticket {reference} from {who}:\n{description}\n\nSend TICKETS to pick it."


def student_line(reference: str, who: str, text: str) -> str:
    return f"[{reference}] {who}: {text}"


def agent_line(text: str) -> str:
    return f"Support: {text}"


def ticket_picked(reference: str, description: str) -> str:
    return (
        f"You have ticket {reference}:\n{description}\n\n"
        "What you send now goes to the student. Send END to close it."
    )


def agent_home(count: int) -> str:
    if count == 0:
        return "Support desk: no open tickets."
    return f"Support desk: {count} open ticket(s). Pick one:"


AGENT_HINT = "Pick a ticket by its number, or send TICKETS to list them again."


# --- subscription and paying ------------------------------------------------------------


def _date(moment: datetime) -> str:
    return moment.strftime("%d %b %Y")


def no_subscription(free_left: int) -> str:
    return f"You have no subscription yet. Free homework credits left: {free_left}."


def subscription_status(
    plan_name: str, active: bool, ends_at: datetime, credits_left: int | None, free_left: int
) -> str:
    if active:
        credits = (
            "unlimited homework"
            if credits_left is None
            else f"{credits_left} homework credits left"
        )
        return (
            f"Plan: {plan_name}\nStatus: active until "
            f"{_date(ends_at)}\n{credits}.\nFree credits: {free_left}."
        )
    return f"Plan: {plan_name}\nStatus: expired on {_date(ends_at)}.\nFree credits: {free_left}."


NO_PLANS = "No plans are on sale right now."
CHOOSE_PLAN = "Choose a plan:"
CHOOSE_PLAN_AGAIN = "Please choose a plan from the list:"
PAY_LATER = "No problem — you can subscribe any time from the menu."


def confirm_plan(name: str, price: str) -> str:
    return f"Pay {price} for the {name} plan?"


def plan_payment_requested(name: str) -> str:
    return f"Getting your payment link for the {name} plan…"


def payment_link(what: str, url: str) -> str:
    return f"💳 Pay for {what} here: {url}"


def order_paid(reference: str, total: str) -> str:
    return f"✅ Payment received. Order {reference} ({total}) is confirmed. Thank you!"


def payment_failed(what: str, reason: str) -> str:
    return (
        f"Your payment for {what} did not go through ({reason}). "
        "Choose Subscribe / pay to try again."
    )


def order_payment_failed(reference: str, reason: str) -> str:
    return (
        f"Your payment for order {reference} did not go through ({reason}). "
        f"Send PAY {reference} for a new payment link."
    )


def order_payment_retry(reference: str) -> str:
    return f"Getting a new payment link for order {reference}…"


def subscription_started(plan_name: str, ends_at: datetime) -> str:
    return f"🎉 Your {plan_name} subscription is active until {_date(ends_at)}."


def subscription_extended(plan_name: str, ends_at: datetime) -> str:
    return f"🎉 Your {plan_name} subscription now runs until {_date(ends_at)}."


def subscription_expired(plan_name: str) -> str:
    return (
        f"Your {plan_name} subscription has expired. Choose Subscribe / pay from the menu to renew."
    )


def renewal_due(plan_name: str, days_left: int, ends_at: datetime) -> str:
    return (
        f"⏰ Your {plan_name} subscription ends in {days_left} day(s), on "
        f"{_date(ends_at)}. Renew from the menu: Subscribe / pay."
    )


# --- FAQ ------------------------------------------------------------------------------

NO_FAQ = "There are no FAQ entries yet."
FAQ_TOPICS = "Frequently asked questions. Choose a topic:"
FAQ_TOPICS_AGAIN = "Please choose a topic from the list:"
FAQ_ANSWER_HINT = "Choose Back to topics, or Main menu."


# --- tutors ---------------------------------------------------------------------------


def work_status(status: str) -> str:
    return "new: accept to take it" if status == "offered" else "accepted: send the solution"


def tutor_home(count: int) -> str:
    if count == 0:
        return "Tutor desk: no open homework. New work will come to you here."
    return f"Tutor desk: {count} open homework. Choose one to work on:"


def tutor_answer(reference: str, subject: str, question: str, *, accepted_now: bool) -> str:
    head = f"You accepted {reference}." if accepted_now else f"Homework {reference}."
    shown = question or "(photo)"
    return f"{head}\n{subject}: {shown}\n\nSend the solution as text or a photo."


NOTHING_TO_ACCEPT = "There is no homework waiting for you to accept."
TUTOR_HINT = "Choose homework by its number, or send ACCEPT or WORK."
TUTOR_SEND_SOLUTION = "Send the solution as text or a photo."


def work_gone(reference: str) -> str:
    return f"Homework {reference} is no longer yours to answer."


def solution_sent(reference: str) -> str:
    return f"✅ Solution for {reference} sent to the student. Thank you!"
