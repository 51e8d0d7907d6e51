#!/usr/bin/env bash
# Install everything the test suite needs, then run all of it:
#   1. Debian packages the tests drive for real (PostgreSQL, Chromium), when they are missing;
#   2. backtriage with its test extras in .venv;
#   3. pytest over the whole suite (warnings are errors; see pyproject.toml).
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null || debian_packages+=(postgresql)
[ -x /usr/bin/chromium ] || debian_packages+=(chromium)
if ((${#debian_packages[@]})); then
  if command -v apt-get > /dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing Debian packages: ${debian_packages[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      "${debian_packages[@]}" > /dev/null
  else
    echo "note: no apt-get; tests that need ${debian_packages[*]} will be skipped" >&2
  fi
fi

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[test]'
exec .venv/bin/python -m pytest -q "$@"
