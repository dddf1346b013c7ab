"""Ticket tokens, key sets, scan rules and the SQLite store. No Qt, no cv2, no HTTP."""
