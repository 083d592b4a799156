"""People: subscribing, confirming, unsubscribing, preferences, signing in (no HTTP, no SMTP)."""
