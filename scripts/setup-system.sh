#!/usr/bin/env bash
# Debian packages the tests and the demo need; installed only when missing.
set -euo pipefail
need=()
# The ledger's batch SHA-256 is a cffi extension built when the project is installed.
command -v gcc >/dev/null || need+=(gcc)
[ -f /usr/include/openssl/evp.h ] || need+=(libssl-dev)
"${PYTHON:-python3}" -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' || need+=(python3-dev)
command -v logger >/dev/null || need+=(bsdutils)
[ -x /usr/sbin/rsyslogd ] || command -v rsyslogd >/dev/null || need+=(rsyslog)
[ -x /usr/bin/chromium ] || need+=(chromium)  # the web UI's browser test (Playwright drives it)
ldconfig -p | grep -q libpangoft2-1.0 || need+=(libpangoft2-1.0-0 fonts-dejavu-core)  # PDF reports
command -v java >/dev/null || need+=(default-jre-headless)  # custodes scale: Spark (Java 17+)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)  # multi-node test
[ -n "${need[*]:-}" ] || exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing system packages: ${need[*]} (run as root or install them)" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
