"""The browser event stream: the local ring, its readers and the sources feeding it."""
