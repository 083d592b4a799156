"""Mail: building messages, queueing them, and delivering them over SMTP or to an outbox."""
