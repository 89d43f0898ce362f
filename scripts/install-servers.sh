#!/usr/bin/env bash
# Installs the real servers the tests talk to (Debian packages), if missing;
# chromium is the headless browser tests/ui/test_web.py drives (over CDP, no driver).
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# sshd and ssh: tests/e2e/test_ssh.py runs the dashboard through ssh -t against a real sshd.
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
# PostgreSQL: tests/conftest.py's pg_clusters runs initdb and postgres (Debian keeps them in
# /usr/lib/postgresql/N/bin, off the PATH); psycopg uses its libpq (libpq5, a dependency).
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# initdb and postgres refuse to run as root: tests run as root run the clusters as this
# unprivileged user (tests/servers.py PG_USER; without it, as nobody).
if [ "$(id -u)" -eq 0 ] && ! id migration-tui-pg >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin migration-tui-pg
fi
