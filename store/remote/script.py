"""The POSIX shell program a box runs for tokentop: lists agent logs, streams their new bytes.

Why a long-lived shell and not one ``ssh`` command per poll: the program travels once per
connection, and the shell keeps the previous listing in a private temporary directory,
so a poll with nothing new costs two bytes up (``L``) and a few down (``.<count>``).
Only standard tools run there (``find``, ``stat``, ``awk``, ``tail``, ``head``,
``cksum``, ``wc``, ``mktemp``); the temporary directory is removed when the connection
ends.

Protocol (one command per line on stdin):

``L``  the listing lines that changed since the previous ``L`` (``<kind> <inode> <size>
       <path>``; kind ``c`` Claude Code, ``x`` Codex), then ``.<number of files>``.
``F``  forget the previous listing (the next ``L`` lists every file).
``A <n> <pattern> <root>``  also list the files named ``pattern`` under ``root`` (or
       ``root`` itself when it is a file; ``~`` and a relative root are under the box's
       home), as ``a<n> <inode> <size> <mtime> <path>``: every other agent's files
       (``tokentop.store.usage.remote_agents``) and the databases a box's tokentop reads.
``X``  the box's ``tokentop`` (on ``PATH``, else ``~/.local/bin``), or an empty line.
``W <path>``  list every file under ``path`` instead (kind ``m``; ``~`` and a relative
       path are under the box's home, as scp has them; answered with the path it
       became): a gridctl telemetry tree followed with ``--metrics-dir box:PATH``.
``R <start> <headlen> <cksum> <max> <path>``  up to ``max`` bytes of ``path`` from
       ``start``; from 0 when the file's first ``headlen`` bytes no longer have
       ``cksum`` (POSIX ``cksum``) or it is shorter than ``start``. Answer:
       ``D <inode> <start used> <n>`` and ``n`` bytes, or ``E`` when it cannot be read.
"""

from __future__ import annotations

# Roots follow the agents' own defaults on the box (Claude Code: ~/.claude and
# ~/.config/claude, or $CLAUDE_CONFIG_DIR; Codex: $CODEX_HOME or ~/.codex). A file
# name with a newline would break the line protocol: such names are never listed.
SCRIPT = r"""
umask 077
T=$(mktemp -d "${TMPDIR:-/tmp}/tokentop.XXXXXX") || exit 3
trap 'rm -rf "$T"' EXIT
trap 'exit 1' HUP INT TERM PIPE
: > "$T/old"
: > "$T/roots"
if stat -c %i / >/dev/null 2>&1; then S='stat -c'; SF='%i %s %n'; SZ='%i %s'; SM='%i %s %Y %n'
else S='stat -f'; SF='%i %z %N'; SZ='%i %z'; SM='%i %z %m %N'; fi
# nanoseconds where GNU stat has them (a document rewritten twice in one second at one
# size is then seen); whole seconds elsewhere
if [ "$S" = 'stat -c' ] && stat -c '%.9Y' / 2>/dev/null | grep -q '^[0-9]*\.[0-9]*$'; then
  SM='%i %s %.9Y %n'; fi
NL='
'
echo 'tokentop-remote 1'
croots() {
  if [ -n "$CLAUDE_CONFIG_DIR" ]; then
    printf '%s\n' "$CLAUDE_CONFIG_DIR" | tr ',' '\n'
  else
    printf '%s\n%s\n' "${XDG_CONFIG_HOME:-$HOME/.config}/claude" "$HOME/.claude"
  fi
}
walk() {
  while IFS= read -r r; do
    [ -d "$r/$1" ] || continue
    find "$r/$1/" -type f -name "$2" ! -name "*$NL*" -exec $S "$SF" {} + 2>/dev/null \
      | sed "s/^/$3 /"
  done
}
W=
list() {
  if [ -n "$W" ]; then
    [ -d "$W" ] && find "$W/" -type f ! -name "*$NL*" -exec $S "$SF" {} + 2>/dev/null \
      | sed 's/^/m /'
    return 0
  fi
  croots | walk projects '*.jsonl' c
  printf '%s\n' "${CODEX_HOME:-$HOME/.codex}" | walk sessions 'rollout-*.jsonl' x
  while IFS=' ' read -r n pat r; do
    if [ -f "$r" ]; then $S "$SM" "$r"
    elif [ -d "$r" ]; then find "$r/" -type f -name "$pat" ! -name "*$NL*" -exec $S "$SM" {} +
    fi 2>/dev/null | sed "s/^/a$n /"
  done < "$T/roots"
}
home() {
  case $1 in "~") printf '%s\n' "$HOME" ;; "~/"*) printf '%s\n' "$HOME/${1#"~/"}" ;;
  /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$HOME/$1" ;; esac
}
while IFS= read -r cmd; do
  case $cmd in
  L)
    list > "$T/new"
    awk 'FILENAME == ARGV[1] { seen[$0] = 1; next } !($0 in seen)' "$T/old" "$T/new"
    printf '.%s\n' "$(wc -l < "$T/new" | tr -d ' ')"
    mv "$T/new" "$T/old" ;;
  F) : > "$T/old" ;;
  A\ *)
    set -f; set -- $cmd; set +f
    n=$2; pat=$3; r=${cmd#A * * }; r=$(home "$r"); r=${r%/}
    case $n in *[!0-9]*|'') continue ;; esac
    printf '%s %s %s\n' "$n" "$pat" "$r" >> "$T/roots" ;;
  X)
    x=$(command -v tokentop 2>/dev/null)
    case $x in /*) ;; *) x= ;; esac
    [ -z "$x" ] && [ -x "$HOME/.local/bin/tokentop" ] && x=$HOME/.local/bin/tokentop
    printf '%s\n' "$x" ;;
  W\ *)
    W=${cmd#W }
    case $W in "~") W=$HOME ;; "~/"*) W="$HOME/${W#"~/"}" ;; /*) ;; *) W="$HOME/$W" ;; esac
    W=${W%/}; [ -n "$W" ] || W=/
    printf '%s\n' "$W" ;;
  R\ *)
    set -f; set -- $cmd; set +f
    start=$2; hl=$3; ck=$4; max=$5; p=${cmd#R * * * * }
    if [ ! -r "$p" ] || [ ! -f "$p" ]; then echo E; continue; fi
    set -- $($S "$SZ" "$p" 2>/dev/null)
    ino=$1; size=$2
    if [ -z "$size" ]; then echo E; continue; fi
    if [ "$size" -lt "$start" ]; then start=0
    elif [ "$hl" -gt 0 ] && [ "$(head -c "$hl" "$p" | cksum)" != "$ck $hl" ]; then start=0; fi
    tail -c +$((start + 1)) "$p" 2>/dev/null | head -c "$max" > "$T/chunk"
    printf 'D %s %s %s\n' "$ino" "$start" "$(wc -c < "$T/chunk" | tr -d ' ')"
    cat "$T/chunk" ;;
  *) echo '?' ;;
  esac
done
"""


def _table() -> list[int]:
    table = []
    for i in range(256):
        c = i << 24
        for _ in range(8):
            c = ((c << 1) ^ 0x04C11DB7) if c & 0x80000000 else (c << 1)
        table.append(c & 0xFFFFFFFF)
    return table


_CRC = _table()


def cksum(data: bytes) -> int:
    """POSIX ``cksum`` of ``data`` (CRC-32/CKSUM over the bytes, then their length), so
    the box can tell whether a file still starts as it did without sending its start."""
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC[(crc >> 24) ^ b]
    n = len(data)
    while n:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC[(crc >> 24) ^ (n & 0xFF)]
        n >>= 8
    return (~crc) & 0xFFFFFFFF
