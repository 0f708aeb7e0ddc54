"""Publishing: the queue, the outbox, the platform publishers, rate limits and the worker."""
