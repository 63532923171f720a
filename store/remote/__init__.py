"""Agent logs on other machines, read over the user's own ``ssh`` with nothing installed there."""
