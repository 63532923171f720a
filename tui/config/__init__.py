"""tokentop's preferences file (``settings``: reading it; ``template``: the commented file
``--init`` writes; ``command``: ``tokentop config``)."""
