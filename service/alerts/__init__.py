"""Alerts to people in an organisation: an urgent case has reached their queue."""
