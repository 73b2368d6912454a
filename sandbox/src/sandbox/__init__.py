"""Provider stand-ins over real HTTP for development and tests: a Twilio-shaped Messages
API with signed callbacks, simulated inbound WhatsApp messages and the chat page."""

from sandbox.app import create_app
from sandbox.settings import SandboxSettings

__all__ = ["SandboxSettings", "create_app"]
