"""What every layer shares and none owns: plain data and pure rules, no I/O, no SQLAlchemy.

- ``tags``: tag keys (one spelling per tag) and which words are never tags;
- ``hashtags``: the hashtag grammar of Telegram and Mastodon, for reading what an author
  wrote and for writing hashtags both platforms recognise whole;
- ``posts``: ``PostStatus`` and ``NewPost``, what it takes to store a post;
- ``feeds``: ``ParsedFeed``, one parsed source.
"""
