"""Start the gateway: webhooks in, events out."""

from gateway.service import build_service
from gateway.settings import GatewaySettings
from shared.standalone import run_service

if __name__ == "__main__":
    run_service(GatewaySettings(), build_service)
