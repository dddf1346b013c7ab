"""Painting: the windows, dialogs and panels the gate staff see."""
