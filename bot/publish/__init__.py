"""Publishing: the outbox, the platform publishers, rate limits and the worker that ties them."""
