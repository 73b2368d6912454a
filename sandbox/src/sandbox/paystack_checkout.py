"""The checkout page an authorization_url opens: the amount, and Pay or Decline."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from sandbox.paystack_ledger import PaystackLedger, PaystackRefusal, PaystackTransaction
from sandbox.paystack_webhooks import PaystackWebhooks

# No script at all; the buttons are plain forms posting back here.
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"}


def format_amount(amount_minor: int, currency: str) -> str:
    """Integer arithmetic only: 500000, 'NGN' -> 'NGN 5,000.00'."""
    major, minor = divmod(amount_minor, 100)
    return f"{currency} {major:,}.{minor:02d}"


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · Paystack sandbox</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f3f5f7; margin: 0; }}
main {{ max-width: 24rem; margin: 3rem auto; background: #fff; padding: 2rem;
        border-radius: 0.5rem; box-shadow: 0 1px 4px #0002; }}
.amount {{ font-size: 1.8rem; font-weight: 600; margin: 0.5rem 0 1.5rem; }}
.muted {{ color: #667; font-size: 0.9rem; }}
form {{ display: inline; }}
button {{ font-size: 1rem; padding: 0.6rem 1.4rem; border: 0; border-radius: 0.3rem;
          cursor: pointer; margin-right: 0.5rem; }}
.pay {{ background: #0ba4db; color: #fff; }} .decline {{ background: #e5e7eb; }}
</style></head>
<body><main>{body}</main></body></html>"""
    return HTMLResponse(html, status_code=status_code, headers=_HEADERS)


def _checkout(transaction: PaystackTransaction) -> str:
    code = escape(transaction.access_code)
    return f"""<h1>Sandbox checkout</h1>
<p class="muted">Reference {escape(transaction.reference)}</p>
<p class="amount">{escape(format_amount(transaction.amount, transaction.currency))}</p>
<form method="post" action="/paystack/checkout/{code}/pay">
<button class="pay" type="submit">Pay</button></form>
<form method="post" action="/paystack/checkout/{code}/decline">
<button class="decline" type="submit">Decline</button></form>
<p class="muted">No money moves: this is the development sandbox.</p>"""


def _result(transaction: PaystackTransaction, webhook_status: int | None = None) -> str:
    words = {
        "success": "Payment successful.",
        "failed": "Payment declined.",
    }.get(transaction.status, "Payment not completed.")
    back = ""
    if transaction.callback_url:
        url = escape(
            f"{transaction.callback_url}?trxref={transaction.reference}"
            f"&reference={transaction.reference}"
        )
        back = f'<p><a href="{url}">Return to the merchant</a></p>'
    note = ""
    if transaction.status == "success":
        delivered = webhook_status is not None and 200 <= webhook_status < 300
        note = (
            '<p class="muted">The merchant was notified.</p>'
            if delivered
            else '<p class="muted">The merchant could not be notified yet.</p>'
        )
    return f"""<h1>{escape(words)}</h1>
<p class="amount">{escape(format_amount(transaction.amount, transaction.currency))}</p>
{note}{back}<p class="muted">You can go back to WhatsApp now.</p>"""


def checkout_router(ledger: PaystackLedger, webhooks: PaystackWebhooks) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def find(access_code: str) -> PaystackTransaction | HTMLResponse:
        try:
            return ledger.by_access_code(access_code)
        except PaystackRefusal:
            return _page("Not found", "<h1>This checkout link is not valid.</h1>", 404)

    @router.get("/paystack/checkout/{access_code}")
    async def checkout_page(access_code: str) -> HTMLResponse:
        transaction = find(access_code)
        if isinstance(transaction, HTMLResponse):
            return transaction
        if transaction.status in ("success", "failed"):
            return _page("Checkout", _result(transaction))
        return _page("Checkout", _checkout(transaction))

    @router.post("/paystack/checkout/{access_code}/pay")
    async def pay(access_code: str) -> HTMLResponse:
        transaction = find(access_code)
        if isinstance(transaction, HTMLResponse):
            return transaction
        if transaction.status in ("success", "failed"):
            return _page("Checkout", _result(transaction))
        ledger.pay(transaction.reference)
        return _page("Paid", _result(transaction, await webhooks.charge_success(transaction)))

    @router.post("/paystack/checkout/{access_code}/decline")
    async def decline(access_code: str) -> HTMLResponse:
        transaction = find(access_code)
        if isinstance(transaction, HTMLResponse):
            return transaction
        if transaction.status not in ("success", "failed"):
            ledger.decline(transaction.reference)
        return _page("Declined", _result(transaction))

    return router
