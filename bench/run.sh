#!/usr/bin/env bash
# Benchmarks Berth against CNCF distribution side by side and prints a table.
# See bench/README.md. Knobs (environment):
#   BENCH_SIZE_MB    size of the big layer and the big blob, MiB (default 1024)
#   BENCH_LAYERS     layers in the many-layer image (default 200)
#   BENCH_DURATION   wrk duration per run, e.g. 10s or 10 (default 10s)
#   BENCH_CONNECTIONS wrk connections (default 100)
#   BENCH_ONLY       distribution | berth: benchmark only that registry
#   BENCH_PHASES     comma-separated phases to run, e.g. 1,2 for the big transfers (default 1,2,3,4)
#   BENCH_DIR        parent directory for fixtures and registry data (default $TMPDIR or /tmp)
#   BENCH_KEEP       1: keep the work directory after the run
#   BERTH_BIN        berth binary to use instead of building target/release/berth
#   BERTH_ARGS       extra arguments for `berth serve`
# Berth requires authentication for pushes: it is started with a freshly
# generated admin password (BERTH_ADMIN_PASSWORD, first start), pushes to it
# carry admin credentials, and all repositories live in the public `library`
# project, so pulls can be measured both anonymously and with credentials.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")

SIZE_MB=${BENCH_SIZE_MB:-1024}
LAYERS=${BENCH_LAYERS:-200}
DURATION=${BENCH_DURATION:-10s}
[[ $DURATION =~ ^[0-9]+$ ]] && DURATION="${DURATION}s"
CONNECTIONS=${BENCH_CONNECTIONS:-100}
ONLY=${BENCH_ONLY:-}
PHASES=${BENCH_PHASES:-1,2,3,4}
KEEP=${BENCH_KEEP:-0}
BERTH_ARGS=${BERTH_ARGS:-}
# All wrk connections come from one address. Berth answers a client with more
# than 32 blob transfers at once with 429 by default (a limit that keeps one
# client from starving others); the bench measures throughput, so it lifts the
# limit above its connection count. The table's settings line shows the values.
export BERTH_TRANSFERS__PER_CLIENT=${BERTH_TRANSFERS__PER_CLIENT:-1024}
export BERTH_TRANSFERS__TOTAL=${BERTH_TRANSFERS__TOTAL:-1024}

die() { echo "bench: $*" >&2; exit 1; }

[[ $SIZE_MB =~ ^[0-9]+$ && $SIZE_MB -ge 1 ]] || die "BENCH_SIZE_MB must be a positive integer"
[[ $LAYERS =~ ^[0-9]+$ && $LAYERS -ge 1 ]] || die "BENCH_LAYERS must be a positive integer"
[[ $CONNECTIONS =~ ^[0-9]+$ && $CONNECTIONS -ge 1 ]] || die "BENCH_CONNECTIONS must be a positive integer"
[[ $DURATION =~ ^[0-9]+[smh]$ ]] || die "BENCH_DURATION must look like 10s"
[[ $PHASES =~ ^[1-4](,[1-4])*$ ]] || die "BENCH_PHASES must list phases 1 to 4, e.g. 1,2"
phase_on() { [[ ,$PHASES, == *,$1,* ]]; }
phase_on 4 && ! phase_on 1 && die "BENCH_PHASES: phase 4 reads the image that phase 1 pushes"
case "$ONLY" in
  "") REGS=(distribution berth) ;;
  distribution | berth) REGS=("$ONLY") ;;
  *) die "BENCH_ONLY must be distribution or berth" ;;
esac

# ---------------------------------------------------------------- tools
ensure_tools() {
  local -A pkg=([docker-registry]=docker-registry [skopeo]=skopeo [wrk]=wrk [jq]=jq
    [curl]=curl [python3]=python3 [timeout]=coreutils)
  local missing=() cmd
  for cmd in "${!pkg[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${pkg[$cmd]}")
  done
  ((${#missing[@]} == 0)) && return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "bench: installing ${missing[*]}" >&2
    if ! DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 ||
      ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2; then
      die "apt-get install ${missing[*]} failed"
    fi
  else
    die "missing ${missing[*]}; install with: sudo apt-get install ${missing[*]}"
  fi
}
ensure_tools

# ---------------------------------------------------------------- credentials, names
# Berth's admin password: 8+ characters with upper, lower and digit. A new one
# every run; it is only handed to berth's environment, never to the log.
BERTH_USER=admin
BERTH_PW="Bench$(python3 -c 'import secrets; print(secrets.token_hex(12))')Z9"
# Repository names: the first component is Berth's project. `library` is
# public (anonymous pulls) and exists from the first start. Distribution gets
# the same names so both registries see identical requests.
REPO_BIG=library/bench/big
REPO_BLOB=library/bench/blob
REPO_MANY=library/bench/many
REPO_SMALL=library/bench/small
REPO_PROBE=library/bench/probe
TOKEN_SERVICE=berth-registry

# push_auth REG: curl arguments that authenticate a push to REG (berth only;
# distribution runs without authentication and gets none).
push_auth() {
  [[ $1 == berth ]] && printf '%s\n' --user "$BERTH_USER:$BERTH_PW"
  return 0
}
# skopeo_dest_auth REG: skopeo copy arguments for pushing to REG.
skopeo_dest_auth() {
  [[ $1 == berth ]] && printf '%s\n' --dest-creds "$BERTH_USER:$BERTH_PW"
  return 0
}

# ---------------------------------------------------------------- work dirs
STAMP=$(date +%Y%m%d-%H%M%S)
OUT_DIR="$HERE/out"
mkdir -p "$OUT_DIR"
LOG="$OUT_DIR/log-$STAMP.txt"
RESULTS_TXT="$OUT_DIR/results-$STAMP.txt"
BASE=${BENCH_DIR:-${TMPDIR:-/tmp}}
mkdir -p "$BASE" || die "cannot create $BASE"
WORK=$(mktemp -d "$BASE/berth-bench.XXXXXX") || die "cannot create a work dir in $BASE"
FX="$WORK/fixtures"
mkdir -p "$FX"
: >"$WORK/results.tsv"
: >"$WORK/meta.tsv"
: >"$WORK/problems.txt"

declare -A PID PORT DATA
cleanup() {
  local r p
  for r in "${!PID[@]}"; do
    p=${PID[$r]}
    if kill -0 "$p" 2>/dev/null; then
      kill "$p" 2>/dev/null
      for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$p" 2>/dev/null
    fi
  done
  for r in "${!PID[@]}"; do
    if [[ -s "$WORK/$r/registry.log" ]]; then
      {
        echo "---- $r log, last 100 lines"
        tail -n 100 "$WORK/$r/registry.log"
      } >>"$LOG"
    fi
  done
  if [[ $KEEP == 1 ]]; then
    echo "bench: work directory kept: $WORK" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s %s\n' "$(date +%T)" "$*" >>"$LOG"; }
say() { printf '%s\n' "$*" >&2; log "$*"; }
meta() { printf '%s\t%s\n' "$1" "$2" >>"$WORK/meta.tsv"; }
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$WORK/results.tsv"; log "result $1 $2 = $3"; }
problem() { # registry, text (collapsed to one line)
  local msg
  msg=$(printf '%s' "$2" | tr '\r\n' '  ' | tr -s ' ' | cut -c1-600)
  printf '%s: %s\n' "$1" "$msg" >>"$WORK/problems.txt"
  say "PROBLEM $1: $msg"
}
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# /proc readings (Linux)
CLK_TCK=$(getconf CLK_TCK)
cpu_secs() { # pid -> utime+stime in seconds
  local stat rest
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo ""; return; }
  rest=${stat##*) } # fields after the command name
  awk -v t="$CLK_TCK" '{ printf "%.2f", ($12 + $13) / t }' <<<"$rest"
}
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
mib() { [[ -n $1 ]] && calc "$1 / 1024" || echo ""; }

alive() { kill -0 "${PID[$1]}" 2>/dev/null; }
url() { echo "http://127.0.0.1:${PORT[$1]}"; }

# ---------------------------------------------------------------- registries
wait_ready() { # registry, log file
  local r=$1 code
  for _ in $(seq 1 240); do
    alive "$r" || { tail -n 20 "$2" >&2; die "$r exited during start (log above)"; }
    code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$(url "$r")/v2/" || true)
    [[ $code == 200 || $code == 401 ]] && return 0
    sleep 0.25
  done
  tail -n 20 "$2" >&2
  die "$r did not answer GET /v2/ within 60 s"
}

start_distribution() {
  local r=distribution dir="$WORK/distribution"
  mkdir -p "$dir/data"
  PORT[$r]=$(free_port)
  DATA[$r]="$dir/data"
  # The stock Debian config's in-memory blob descriptor cache is kept on.
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  accesslog:
    disabled: true
  level: error
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${PORT[$r]}
EOF
  docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  PID[$r]=$!
  wait_ready "$r" "$dir/registry.log"
}

build_berth() {
  if [[ -n ${BERTH_BIN:-} ]]; then
    [[ -x $BERTH_BIN ]] || die "BERTH_BIN=$BERTH_BIN is not an executable file"
    return
  fi
  command -v cargo >/dev/null || die "cargo not found; install Rust or set BERTH_BIN"
  say "building berth (cargo build --release -p berth)"
  (cd "$ROOT" && cargo build --release -p berth) >>"$LOG" 2>&1 || die "cargo build failed; see $LOG"
  BERTH_BIN="$ROOT/target/release/berth"
}

start_berth() {
  local r=berth dir="$WORK/berth"
  mkdir -p "$dir/data"
  PORT[$r]=$(free_port)
  DATA[$r]="$dir/data"
  # For BENCH_KEEP=1 inspection: the password of this run's throwaway admin.
  (umask 077 && printf '%s:%s\n' "$BERTH_USER" "$BERTH_PW" >"$dir/admin-credentials")
  # The harness's own BERTH_BIN/BERTH_ARGS must not reach berth's BERTH_* configuration.
  # The admin password is set on the first start of the fresh data directory.
  # shellcheck disable=SC2086 # BERTH_ARGS is a list of words
  env -u BERTH_BIN -u BERTH_ARGS BERTH_ADMIN_PASSWORD="$BERTH_PW" \
    "$BERTH_BIN" serve --listen "127.0.0.1:${PORT[$r]}" --data-dir "$dir/data" $BERTH_ARGS \
    >"$dir/registry.log" 2>&1 &
  PID[$r]=$!
  wait_ready "$r" "$dir/registry.log"
  check_berth_auth
}

# Checks that berth took the generated admin password and that `library` is
# open to anonymous pulls, so later failures are not mistaken for slowness.
check_berth_auth() {
  local code
  code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' "$(url berth)/v2/")
  [[ $code == 401 ]] || say "berth: anonymous GET /v2/ answered $code (expected 401)"
  code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' --user "$BERTH_USER:$BERTH_PW" "$(url berth)/v2/")
  [[ $code == 200 ]] || die "berth: GET /v2/ as $BERTH_USER with the generated password -> HTTP $code" \
    "(a data directory from an earlier start keeps its first admin password)"
  code=$(curl -s -m 30 -o /dev/null -w '%{http_code}' \
    "$(url berth)/service/token?service=$TOKEN_SERVICE&scope=repository:$REPO_BIG:pull")
  [[ $code == 200 ]] || say "berth: anonymous pull token for $REPO_BIG -> HTTP $code (expected 200)"
}

# ---------------------------------------------------------------- steps
# CPU accounting: cpu_begin REG; ...; cpu_end REG METRIC
# A phase that hit a problem gets no CPU figure: it did not do the same work.
declare -A CPU0 CPU_START PROBS0
problem_count() { grep -c "^$1: " "$WORK/problems.txt"; }
cpu_begin() { CPU0[$1]=$(cpu_secs "${PID[$1]}"); PROBS0[$1]=$(problem_count "$1"); }
cpu_end() {
  local c1
  c1=$(cpu_secs "${PID[$1]}")
  LAST_CPU=""
  if [[ $(problem_count "$1") != "${PROBS0[$1]}" ]]; then
    record "$2" "$1" FAIL
  elif [[ -n ${CPU0[$1]} && -n $c1 ]]; then
    LAST_CPU=$(calc "$c1 - ${CPU0[$1]}")
    record "$2" "$1" "$LAST_CPU"
  fi
  log "$1 VmHWM after $2: $(status_kib "${PID[$1]}" VmHWM) KiB"
}

check_alive() {
  alive "$1" && return 0
  problem "$1" "process is gone before $2; last log lines: $(tail -n 5 "$WORK/$1/registry.log")"
  return 1
}

skopeo_copy() { # registry, metric, src, dst, [skopeo copy options...] -> records seconds, returns status
  local r=$1 metric=$2 src=$3 dst=$4 t0 t1 rc out
  shift 4
  sync
  t0=$(now)
  out=$(timeout 1800 skopeo copy --insecure-policy --src-tls-verify=false --dest-tls-verify=false \
    "$@" "$src" "$dst" 2>&1)
  rc=$?
  t1=$(now)
  log "skopeo copy $src $dst${1:+ (with credentials)} (rc=$rc): $(tail -n 3 <<<"$out")"
  if ((rc != 0)); then
    # Once more with --debug, so the log shows each request and response.
    local dbg="$OUT_DIR/skopeo-debug-$STAMP-$r-$metric.txt"
    [[ $dst == dir:* ]] && rm -rf "${dst#dir:}"
    timeout 600 skopeo --debug copy --insecure-policy --src-tls-verify=false --dest-tls-verify=false \
      "$@" "$src" "$dst" >"$dbg" 2>&1
    problem "$r" "skopeo copy $src $dst failed (exit $rc): $(tail -n 3 <<<"$out") [debug rerun: $dbg]"
    record "$metric" "$r" FAIL
    return 1
  fi
  record "$metric" "$r" "$(calc "$t1 - $t0")"
  LAST_SECS=$(calc "$t1 - $t0")
}

header_value() { tr -d '\r' | awk -v h="$1" 'tolower($1) == tolower(h) ":" { print $2; exit }'; }

abs_location() { # registry, location header -> absolute URL
  case "$2" in
    http://* | https://*) echo "$2" ;;
    /*) echo "$(url "$1")$2" ;;
    *) echo "$(url "$1")/v2/$2" ;;
  esac
}

with_digest() { # url, digest
  case "$1" in
    *\?*) echo "$1&digest=$2" ;;
    *) echo "$1?digest=$2" ;;
  esac
}

# upload_blob REG REPO FILE DIGEST MODE -> prints "seconds", returns 0 on 201
upload_blob() {
  local r=$1 repo=$2 file=$3 digest=$4 mode=$5 size hdrs body res code t loc t_open=0 auth
  mapfile -t auth < <(push_auth "$r")
  size=$(stat -c %s "$file")
  hdrs="$WORK/upload.hdrs"
  body="$WORK/upload.body"
  if [[ $mode == monolithic ]]; then
    # stdin upload keeps curl from buffering the file and from appending its name to the URL
    res=$(curl -s -m 3600 "${auth[@]}" -X POST -D "$hdrs" -o "$body" -w '%{http_code} %{time_total}' \
      -H 'Content-Type: application/octet-stream' -H "Content-Length: $size" \
      -H 'Transfer-Encoding:' -H 'Expect:' -T - \
      "$(url "$r")/v2/$repo/blobs/uploads/?digest=$digest" <"$file")
    code=${res%% *} t=${res##* }
    if [[ $code != 201 ]]; then
      problem "$r" "POST /v2/$repo/blobs/uploads/?digest=$digest with $size-byte body -> HTTP $code $(head -c 300 "$body")"
      return 1
    fi
    echo "$t"
    return 0
  fi
  res=$(curl -s -m 60 "${auth[@]}" -X POST -D "$hdrs" -o "$body" -w '%{http_code} %{time_total}' \
    "$(url "$r")/v2/$repo/blobs/uploads/")
  code=${res%% *} t_open=${res##* }
  loc=$(header_value Location <"$hdrs")
  if [[ $code != 202 || -z $loc ]]; then
    problem "$r" "POST /v2/$repo/blobs/uploads/ (empty body) -> HTTP $code, Location '${loc}' $(head -c 300 "$body")"
    return 1
  fi
  loc=$(with_digest "$(abs_location "$r" "$loc")" "$digest")
  res=$(curl -s -m 3600 "${auth[@]}" -X PUT -D "$hdrs" -o "$body" -w '%{http_code} %{time_total}' \
    -H 'Content-Type: application/octet-stream' -H 'Expect:' -T "$file" "$loc")
  code=${res%% *} t=${res##* }
  if [[ $code != 201 ]]; then
    problem "$r" "PUT ${loc#http://127.0.0.1:*/} with $size-byte body -> HTTP $code $(head -c 300 "$body")"
    return 1
  fi
  calc "$t_open + $t"
}

# probe_monolithic REG -> prints the HTTP status of a monolithic POST of a small blob
probe_monolithic() {
  local r=$1 f="$FX/probe.bin" d auth
  mapfile -t auth < <(push_auth "$r")
  [[ -f $f ]] || head -c 4096 /dev/urandom >"$f"
  d="sha256:$(sha256sum "$f" | cut -d' ' -f1)"
  curl -s -m 30 "${auth[@]}" -o /dev/null -w '%{http_code}' -X POST \
    -H 'Content-Type: application/octet-stream' -H 'Content-Length: 4096' \
    -H 'Transfer-Encoding:' -H 'Expect:' -T - \
    "$(url "$r")/v2/$REPO_PROBE/blobs/uploads/?digest=$d" <"$f"
}

# anon_auth REG REPO -> the Authorization value an anonymous client pulling
# REPO sends: nothing to distribution; an anonymous Bearer token to berth,
# which challenges every request without credentials, as Docker Hub does.
anon_auth() {
  local body code
  [[ $1 == berth ]] || return 0
  body="$WORK/anon-token.json"
  code=$(curl -s -m 30 -o "$body" -w '%{http_code}' \
    "$(url berth)/service/token?service=$TOKEN_SERVICE&scope=repository:$2:pull")
  [[ $code == 200 ]] || { problem berth "anonymous token for $2 -> HTTP $code"; return 1; }
  printf 'Bearer %s' "$(jq -er '.token' "$body")"
}

get_blob() { # registry, repo, digest, expected size -> prints "seconds mbps"; anonymous (public project)
  local r=$1 res code size t authz hdr=()
  authz=$(anon_auth "$r" "$2") || return 1
  [[ -n $authz ]] && hdr+=(-H "Authorization: $authz")
  res=$(curl -s -m 3600 -L -o /dev/null -w '%{http_code} %{size_download} %{time_total}' "${hdr[@]}" \
    "$(url "$r")/v2/$2/blobs/$3")
  read -r code size t <<<"$res"
  if [[ $code != 200 || $size != "$4" ]]; then
    problem "$r" "GET /v2/$2/blobs/$3 -> HTTP $code, $size bytes (expected 200 and $4 bytes)"
    return 1
  fi
  echo "$t $(calc "$size / 1000000 / $t")"
}

run_wrk() { # registry, metric prefix, path, accept, [Authorization header value]
  local r=$1 m=$2 out line req dur p99 serr sterr
  out=$(WRK_ACCEPT=$4 WRK_AUTHORIZATION=${5:-} timeout 600 wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency \
    -s "$HERE/wrk.lua" "$(url "$r")$3" 2>&1)
  log "wrk $r $3${5:+ (Authorization: ${5%% *} ...)}: $out"
  line=$(grep '^BENCH ' <<<"$out")
  if [[ -z $line ]]; then
    problem "$r" "wrk against $3 printed no result: $(tail -n 3 <<<"$out")"
    record "${m}_rps" "$r" FAIL
    return 1
  fi
  req=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$line")
  dur=$(sed -n 's/.*duration_us=\([0-9]*\).*/\1/p' <<<"$line")
  p99=$(sed -n 's/.*p99_us=\([0-9]*\).*/\1/p' <<<"$line")
  serr=$(sed -n 's/.*socket_errors=\([0-9]*\).*/\1/p' <<<"$line")
  sterr=$(sed -n 's/.*status_errors=\([0-9]*\).*/\1/p' <<<"$line")
  record "${m}_rps" "$r" "$(calc "$req / ($dur / 1000000)")"
  record "${m}_p99_ms" "$r" "$(calc "$p99 / 1000")"
  record "${m}_errors" "$r" "$serr/$sterr"
  LAST_REQ=$req
  if ((sterr > 0)); then
    problem "$r" "wrk GET $3: $sterr of $req responses had status >= 400"
  fi
}

# ---------------------------------------------------------------- fixtures
SIZE_BYTES=$((SIZE_MB * 1024 * 1024))
if ((SIZE_MB % 1024 == 0)); then SIZE_LABEL="$((SIZE_MB / 1024)) GiB"; else SIZE_LABEL="$SIZE_MB MiB"; fi

say "work directory: $WORK; log: $LOG"
say "writing fixtures ($SIZE_LABEL layer, $SIZE_LABEL blob, $LAYERS small layers, 16 KiB blob)"
BIG_JSON={} MANY_JSON={} BLOB_JSON={} SMALL_JSON={}
if phase_on 1; then
  BIG_JSON=$(python3 "$HERE/fixtures.py" image "$FX/big" --layer-bytes "$SIZE_BYTES") || die "fixture big failed"
fi
if phase_on 3; then
  MANY_JSON=$(python3 "$HERE/fixtures.py" layers "$FX/many" --count "$LAYERS") || die "fixture many failed"
fi
if phase_on 2; then
  BLOB_JSON=$(python3 "$HERE/fixtures.py" blob "$FX/blob.bin" --bytes "$SIZE_BYTES") || die "fixture blob failed"
fi
SMALL_JSON=$(python3 "$HERE/fixtures.py" blob "$FX/small.bin" --bytes 16384) || die "fixture small failed"
BIG_BYTES=$(jq -r '.total_bytes // empty' <<<"$BIG_JSON")
BLOB_DIGEST=$(jq -r '.digest // empty' <<<"$BLOB_JSON")
SMALL_DIGEST=$(jq -r .digest <<<"$SMALL_JSON")
log "fixtures: $BIG_JSON $MANY_JSON $BLOB_JSON $SMALL_JSON"

# ---------------------------------------------------------------- start
for r in "${REGS[@]}"; do
  [[ $r == berth ]] && build_berth
done
for r in "${REGS[@]}"; do
  say "starting $r"
  "start_$r"
  sleep 1
  record idle_rss_mib "$r" "$(mib "$(status_kib "${PID[$r]}" VmRSS)")"
  CPU_START[$r]=$(cpu_secs "${PID[$r]}")
  say "$r: pid ${PID[$r]}, $(url "$r"), data in ${DATA[$r]}"
done

meta date "$(date '+%Y-%m-%d %H:%M:%S %Z')"
meta machine "$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2/1048576 }' /proc/meminfo), $(uname -r), data on $(df -P "$WORK" | awk 'NR==2 { print $1 }')"
meta distribution_version "$(docker-registry --version 2>/dev/null | awk '{ print $2, $3 }')"
if [[ -n ${PID[berth]:-} ]]; then
  rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'no commit')
  [[ -n $(git -C "$ROOT" status --porcelain -- crates Cargo.toml Cargo.lock 2>/dev/null) ]] && rev="$rev, work tree modified"
  meta berth_version "$(env -u BERTH_BIN -u BERTH_ARGS "$BERTH_BIN" --version 2>/dev/null | head -n 1) ($BERTH_BIN; $rev)"
  berth_env=$(env | grep '^BERTH_' | grep -v -e '^BERTH_BIN=' -e '^BERTH_ARGS=' |
    grep -v -i -e PASSWORD -e SECRET -e TOKEN -e KEY | sort | tr '\n' ' ')
  meta berth_settings "defaults${BERTH_ARGS:+, serve $BERTH_ARGS}${berth_env:+, environment: $berth_env}"
fi
meta sizes "big layer/blob $SIZE_LABEL ($SIZE_BYTES bytes of random data), $LAYERS small layers (16-64 KiB), wrk -t2 -c$CONNECTIONS -d$DURATION"
meta size_label "$SIZE_LABEL"
meta layers "$LAYERS"
meta connections "$CONNECTIONS"
meta duration "$DURATION"
[[ $PHASES == 1,2,3,4 ]] || meta phases "only phases $PHASES"
if [[ -n ${PID[berth]:-} ]]; then
  meta auth_note "berth: pushes as admin (skopeo --dest-creds, curl Basic); pulls anonymous from the public library project unless a row says otherwise; distribution: no authentication"
fi

# ---------------------------------------------------------------- 1. big image
# Pushes to berth carry the admin's credentials (skopeo does the token dance);
# pulls are anonymous from the public library project, as a CI job would pull.
phase_on 1 && say "phase 1: $SIZE_LABEL single-layer image push and pull (skopeo)"
for r in "${REGS[@]}"; do
  phase_on 1 || break
  check_alive "$r" "phase 1" || continue
  mapfile -t dest_auth < <(skopeo_dest_auth "$r")
  cpu_begin "$r"
  if skopeo_copy "$r" big_push_s "oci:$FX/big:1" "docker://127.0.0.1:${PORT[$r]}/$REPO_BIG:1" "${dest_auth[@]}"; then
    record big_push_mbps "$r" "$(calc "$BIG_BYTES / 1000000 / $LAST_SECS")"
  fi
  rm -rf "$WORK/pull"
  if skopeo_copy "$r" big_pull_s "docker://127.0.0.1:${PORT[$r]}/$REPO_BIG:1" "dir:$WORK/pull"; then
    record big_pull_mbps "$r" "$(calc "$BIG_BYTES / 1000000 / $LAST_SECS")"
  fi
  rm -rf "$WORK/pull"
  cpu_end "$r" cpu_big
done

# ---------------------------------------------------------------- 2. big blob
MODE=monolithic
PROBES=""
for r in "${REGS[@]}"; do
  check_alive "$r" "phase 2" || continue
  code=$(probe_monolithic "$r")
  PROBES+="${PROBES:+, }$r answered $code"
  [[ $code == 201 ]] || MODE=session
done
if [[ $MODE == monolithic ]]; then
  meta upload_note "monolithic POST ?digest= with the body ($PROBES)"
else
  meta upload_note "POST opens a session, then one PUT ?digest= with the whole body; monolithic POST probe: $PROBES"
fi
meta upload_mode "$MODE"
phase_on 2 && say "phase 2: $SIZE_LABEL blob upload in one request and GET (curl)"
for r in "${REGS[@]}"; do
  phase_on 2 || break
  check_alive "$r" "phase 2" || continue
  cpu_begin "$r"
  sync
  if t=$(upload_blob "$r" "$REPO_BLOB" "$FX/blob.bin" "$BLOB_DIGEST" "$MODE"); then
    record blob_put_mbps "$r" "$(calc "$SIZE_BYTES / 1000000 / $t")"
    if res=$(get_blob "$r" "$REPO_BLOB" "$BLOB_DIGEST" "$SIZE_BYTES"); then
      record blob_get_mbps "$r" "${res##* }"
    else
      record blob_get_mbps "$r" FAIL
    fi
  else
    record blob_put_mbps "$r" FAIL
  fi
  cpu_end "$r" cpu_blob
done

# ---------------------------------------------------------------- 3. many layers
phase_on 3 && say "phase 3: $LAYERS-layer image push and pull (skopeo)"
for r in "${REGS[@]}"; do
  phase_on 3 || break
  check_alive "$r" "phase 3" || continue
  mapfile -t dest_auth < <(skopeo_dest_auth "$r")
  cpu_begin "$r"
  skopeo_copy "$r" many_push_s "oci:$FX/many:1" "docker://127.0.0.1:${PORT[$r]}/$REPO_MANY:1" "${dest_auth[@]}"
  rm -rf "$WORK/pull"
  skopeo_copy "$r" many_pull_s "docker://127.0.0.1:${PORT[$r]}/$REPO_MANY:1" "dir:$WORK/pull"
  rm -rf "$WORK/pull"
  cpu_end "$r" cpu_many
done

# ---------------------------------------------------------------- 4. wrk
# Every registry is measured anonymously (berth: the public library project,
# with the anonymous token every client fetches after berth's challenge).
# Berth is then measured again with the admin's Basic credentials on every
# request, and with one admin Bearer token from /service/token, so the cost
# of authentication on the hot path shows next to the anonymous numbers.
ACCEPT="application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json"
BASIC="Basic $(printf '%s:%s' "$BERTH_USER" "$BERTH_PW" | base64 -w0)"

# berth_token REPO -> prints a pull token for REPO, fetched with Basic credentials
berth_token() {
  local body code
  body="$WORK/token.json"
  code=$(curl -s -m 30 -o "$body" -w '%{http_code}' -H "Authorization: $BASIC" \
    "$(url berth)/service/token?service=$TOKEN_SERVICE&scope=repository:$1:pull")
  if [[ $code != 200 ]]; then
    problem berth "GET /service/token?service=$TOKEN_SERVICE&scope=repository:$1:pull (Basic) -> HTTP $code $(head -c 300 "$body")"
    return 1
  fi
  jq -er '.token // .access_token' "$body" || { problem berth "token response without a token: $(head -c 300 "$body")"; return 1; }
}

# wrk_case REG METRIC PATH ACCEPT AUTH LABEL EXTRA: checks one request (which
# also warms berth's credential cache, as any client's first request would),
# then runs wrk with CPU accounting. EXTRA=1 marks a run distribution gets no
# counterpart of.
wrk_case() {
  local r=$1 m=$2 path=$3 accept=$4 authz=$5 label=$6 extra=${7:-0} code hdr=()
  [[ -n $accept ]] && hdr+=(-H "Accept: $accept")
  [[ -n $authz ]] && hdr+=(-H "Authorization: $authz")
  code=$(curl -s -m 30 -o "$WORK/check.body" -w '%{http_code}' "${hdr[@]}" "$(url "$r")$path")
  if [[ $code != 200 ]]; then
    problem "$r" "GET $path ($label) -> HTTP $code $(head -c 300 "$WORK/check.body")"
    record "${m}_rps" "$r" FAIL
    return 1
  fi
  cpu_begin "$r"
  LAST_REQ=""
  run_wrk "$r" "$m" "$path" "$accept" "$authz"
  cpu_end "$r" "cpu_$m"
  if [[ -n $LAST_CPU && -n $LAST_REQ && $LAST_REQ -gt 0 ]]; then
    record "${m}_cpu_us" "$r" "$(calc "$LAST_CPU * 1000000 / $LAST_REQ")"
  fi
  # CPU of runs distribution does not get, kept out of the like-for-like total
  [[ $extra == 1 && -n $LAST_CPU ]] && EXTRA_CPU[$r]=$(calc "${EXTRA_CPU[$r]:-0} + $LAST_CPU")
  return 0
}

declare -A EXTRA_CPU

# wrk_set METRIC PATH ACCEPT TOKEN_REPO: anonymous on every registry, then
# Basic and Bearer on berth.
wrk_set() {
  local m=$1 path=$2 accept=$3 repo=$4 r token anon
  for r in "${REGS[@]}"; do
    check_alive "$r" "phase 4" || continue
    anon=$(anon_auth "$r" "$repo") || { record "${m}_rps" "$r" FAIL; continue; }
    wrk_case "$r" "$m" "$path" "$accept" "$anon" anonymous
  done
  [[ " ${REGS[*]} " == *" berth "* ]] || return 0
  check_alive berth "phase 4" || return 0
  wrk_case berth "${m}_basic" "$path" "$accept" "$BASIC" "Basic auth" 1
  check_alive berth "phase 4" || return 0
  if token=$(berth_token "$repo"); then
    wrk_case berth "${m}_bearer" "$path" "$accept" "Bearer $token" "Bearer token" 1
  else
    record "${m}_bearer_rps" berth FAIL
  fi
}

if phase_on 4; then
  say "phase 4: wrk, manifest GET and 16 KiB blob GET ($CONNECTIONS connections, $DURATION each; berth also with Basic and Bearer)"
  wrk_set manifest "/v2/$REPO_BIG/manifests/1" "$ACCEPT" "$REPO_BIG"
  SMALL_OK=()
  for r in "${REGS[@]}"; do
    check_alive "$r" "phase 4" || continue
    if upload_blob "$r" "$REPO_SMALL" "$FX/small.bin" "$SMALL_DIGEST" "$MODE" >/dev/null &&
      get_blob "$r" "$REPO_SMALL" "$SMALL_DIGEST" 16384 >/dev/null; then
      SMALL_OK+=("$r")
    else
      record blob16k_rps "$r" FAIL
    fi
  done
  if ((${#SMALL_OK[@]} > 0)); then
    REGS_ALL=("${REGS[@]}")
    REGS=("${SMALL_OK[@]}")
    wrk_set blob16k "/v2/$REPO_SMALL/blobs/$SMALL_DIGEST" "" "$REPO_SMALL"
    REGS=("${REGS_ALL[@]}")
  fi
fi

# ---------------------------------------------------------------- 5. memory, totals
for r in "${REGS[@]}"; do
  check_alive "$r" "the end of the run" || continue
  record peak_rss_mib "$r" "$(mib "$(status_kib "${PID[$r]}" VmHWM)")"
  c=$(cpu_secs "${PID[$r]}")
  if [[ $(problem_count "$r") == 0 ]]; then
    # like for like: without the wrk runs with credentials that only berth gets
    record cpu_total "$r" "$(calc "$c - ${CPU_START[$r]} - ${EXTRA_CPU[$r]:-0}")"
    [[ -n ${EXTRA_CPU[$r]:-} ]] && record cpu_total_all "$r" "$(calc "$c - ${CPU_START[$r]}")"
  else
    record cpu_total "$r" FAIL
  fi
done

python3 "$HERE/table.py" "$WORK" | tee "$RESULTS_TXT"
echo
echo "written: $RESULTS_TXT (details in $LOG)"
