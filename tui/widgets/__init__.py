"""Reusable pieces of tokentop's screens: cards, charts, lists, bars, status lines.

Each module holds one concept. Widgets never read files or start workers: a screen
queries the store and hands them plain values.
"""
