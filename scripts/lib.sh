# shellcheck shell=bash
# Helpers shared by scripts/pg, scripts/test and scripts/run-local. Source it; do not run it.
#
# Everything here installs only what is missing, so a second run on the same machine
# touches neither apt nor the network.

# say MESSAGE...: a human message, on stderr (stdout is kept for machine-readable output).
say() { printf '%s\n' "$*" >&2; }

# die MESSAGE...: say it and exit 1.
die() { say "error: $*"; exit 1; }

# apt_update_once: `apt-get update` at most once per run, across scripts that call each other
# (SPILLWAY_APT_UPDATED is exported to children).
apt_update_once() {
    [[ ${SPILLWAY_APT_UPDATED:-} == 1 ]] && return 0
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    export SPILLWAY_APT_UPDATED=1
}

# apt_install PACKAGE...: install with apt as root, non-interactively. Package scripts are not
# allowed to start services (a policy-rc.d answering 101 is put in place if there is none), so
# Debian's own PostgreSQL or PgBouncer service is not left running: our clusters are our own.
apt_install() {
    [[ $EUID -eq 0 ]] || die "need root to install: $* (run: sudo apt-get install -y $*)"
    command -v apt-get >/dev/null 2>&1 || die "no apt-get on this machine; install by hand: $*"
    apt_update_once
    local policy=/usr/sbin/policy-rc.d placed=0 status=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\n# placed by spillway scripts/lib.sh during apt-get install\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        placed=1
    fi
    say "apt-get install -y $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2 || status=$?
    if [[ $placed == 1 ]]; then rm -f "$policy"; fi
    return "$status"
}

# missing_debs PACKAGE...: print the packages that are not installed.
missing_debs() {
    local p
    for p in "$@"; do
        if [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) != ii* ]]; then
            printf '%s\n' "$p"
        fi
    done
}

# ensure_build_deps: what a fresh Debian needs for Swift at /opt/swift to build and test a
# SwiftNIO package: the C/C++ runtime and headers the Swift toolchain links against and that
# BoringSSL (swift-crypto) compiles with, git for SwiftPM, and the libraries Foundation loads.
ensure_build_deps() {
    command -v dpkg-query >/dev/null 2>&1 || return 0   # not Debian: trust the machine
    local gccv=12
    if [[ -r /etc/os-release ]] && grep -q '^VERSION_ID="13"' /etc/os-release; then gccv=14; fi
    local wanted=(
        binutils git pkg-config tzdata
        libc6-dev "libgcc-${gccv}-dev" "libstdc++-${gccv}-dev" zlib1g-dev
        libcurl4 libxml2 libedit2 libsqlite3-0 libncurses6
        iproute2 util-linux
    )
    local missing
    mapfile -t missing < <(missing_debs "${wanted[@]}")
    if ((${#missing[@]})); then
        apt_install "${missing[@]}"
    fi
}

# ensure_swift: put /opt/swift/usr/bin on PATH when `swift` is not found already.
ensure_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        [[ -x /opt/swift/usr/bin/swift ]] || die "swift not found on PATH nor at /opt/swift/usr/bin"
        export PATH="/opt/swift/usr/bin:$PATH"
    fi
}

# ensure_service_user NAME: the unprivileged OS user Spillway runs as in tests, the drill and bench/ (created as
# a system user with no login shell when missing; needs root). Prints nothing; returns 0 when it exists.
ensure_service_user() {
    local name=$1
    id -u "$name" >/dev/null 2>&1 && return 0
    [[ $EUID -eq 0 ]] || die "the unprivileged user '$name' is missing and creating it needs root"
    say "useradd --system $name"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$name" >&2
}
