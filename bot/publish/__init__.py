"""Publishing: the queue, the outbox, the platform publishers."""
