#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter, or explain what to install.
# $PYTHON wins when set (and must be >= 3.12); otherwise the first of python3.12, python3.13,
# python3, python and pyenv's installed 3.x versions (oldest first) that is >= 3.12.
set -u

is_recent() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

if [ -n "${PYTHON:-}" ]; then
    if is_recent "$PYTHON"; then
        command -v "$PYTHON"
        exit 0
    fi
    echo "error: PYTHON=$PYTHON is not a Python >= 3.12 interpreter; unset PYTHON or point it at one." >&2
    exit 1
fi

candidates=()
for name in python3.12 python3.13 python3 python; do
    command -v "$name" >/dev/null 2>&1 && candidates+=("$(command -v "$name")")
done
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
for dir in $(ls -d "$pyenv_root"/versions/3.* 2>/dev/null | sort -V); do
    [ -x "$dir/bin/python" ] && candidates+=("$dir/bin/python")
done

for candidate in "${candidates[@]}"; do
    if is_recent "$candidate"; then
        echo "$candidate"
        exit 0
    fi
done

cat >&2 <<'MSG'
error: bayescale needs Python >= 3.12 (PyMC 6 requires it) and none was found.
Install one, then run the command again, for example:
  pyenv install 3.12          (then it is found automatically), or
  apt-get install python3.12 python3.12-venv, or
  set PYTHON=/path/to/python3.12 when calling make.
MSG
exit 1
