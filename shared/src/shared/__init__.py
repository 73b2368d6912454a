"""What every service needs: events, messaging, database, settings, logging, metrics, health."""
