"""Threads, sync and the hub behind the window: no painting here."""
