"""Ingest of posts, news and reported messages into the lake dataset `infowatch_posts`."""
