"""Well-known credentials that the services and the provider sandbox share in development.

They are not secrets: they only open the local sandbox, and a service running with
``APP_ENV=production`` never falls back to them.
"""

TWILIO_ACCOUNT_SID = "AC0000000000000000000000000sandbox"
TWILIO_AUTH_TOKEN = "sandbox-twilio-auth-token"  # noqa: S105 - a public development value
TWILIO_WHATSAPP_FROM = "whatsapp:+14155238886"

# Paystack's test keys start with sk_test_; this one opens only the sandbox's Paystack.
PAYSTACK_SECRET_KEY = "sk_test_sandbox_paystack_secret_key"  # noqa: S105 - a public development value

SANDBOX_PORT = 8010
GATEWAY_PORT = 8000

# Opens the admin API of a development stack; production requires ADMIN_API_TOKEN.
ADMIN_API_TOKEN = "dev-admin-token"  # noqa: S105 - a public development value
