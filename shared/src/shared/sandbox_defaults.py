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

# The Cloud API account the sandbox plays: a business phone number id, its display
# number, the app secret its webhooks are signed with, and the verify token.
WHATSAPP_ACCESS_TOKEN = "sandbox-whatsapp-access-token"  # noqa: S105 - a public development value
WHATSAPP_APP_SECRET = "sandbox-whatsapp-app-secret"  # noqa: S105 - a public development value
WHATSAPP_VERIFY_TOKEN = "sandbox-whatsapp-verify-token"  # noqa: S105 - a public development value
WHATSAPP_PHONE_NUMBER_ID = "100000000000001"
WHATSAPP_DISPLAY_NUMBER = "+15550001234"
WHATSAPP_API_VERSION = "v21.0"

# Signs links to stored media in development; production requires MEDIA_LINK_SECRET.
MEDIA_LINK_SECRET = "sandbox-media-link-secret"  # noqa: S105 - a public development value
