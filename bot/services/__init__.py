"""Services: what the CLI, the chat handlers and the scheduler do, each rule in one place.

One module per concern (``posts``, ``publishing``, ``feeds``, ``access``). Every public
function takes a :class:`~bot.services.context.Services` (the ``App`` is one), opens and
owns its own transaction, and returns frozen result dataclasses — never an ORM row, never a
presentation object. Bad input raises a :class:`bot.errors.RelaisError` subclass whose
message is meant for the person who typed it. Adapters parse input, call ONE function here,
and present its result.
"""
