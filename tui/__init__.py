"""tokentop's terminal UI and command line. Textual is imported only when the UI starts."""
