#!/usr/bin/env bash
# How `apply` input reaches the daemon: the CLI passes a sealed memfd (a
# file, or stdin); any other descriptor a client passes (a plain file that
# could be truncated or rewritten while mapped) is read, not mapped. The
# daemon stays up when the file is truncated during the apply.
source "$(dirname "$0")/lib.sh"
t_init apply-input
pt_start

svc() { printf 'apiVersion: v1\nkind: Service\nmetadata: {name: %s}\nspec:\n  ports: [{port: 80}]\n' "$1"; }

svc from-file >"$T_DIR/a.yaml"
out=$(pt apply -f "$T_DIR/a.yaml" 2>&1)
expect_match "$out" "from-file created" "apply -f FILE"
out=$(svc from-pipe | pt apply -f - 2>&1)
expect_match "$out" "from-pipe created" "apply -f - (a pipe)"

# another client passing a plain file descriptor (unsealed): read, applied
svc foreign-fd >"$T_DIR/b.yaml"
out=$(python3 - "$T_SOCK" "$T_DIR/b.yaml" <<'PY'
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
fd = os.open(sys.argv[2], os.O_RDONLY)
req = json.dumps({"cmd": "apply", "source": sys.argv[2]}).encode() + b"\n"
socket.send_fds(s, [req], [fd])
buf = b""
while not buf.endswith(b"\n"):
    c = s.recv(65536)
    if not c:
        break
    buf += c
print(buf.decode())
PY
)
expect_match "$out" '"created"' "a client's unsealed file descriptor is read and applied"
poll_until 5 pt get svc foreign-fd >/dev/null 2>&1 && ok "foreign-fd stored" || fail "foreign-fd stored"

# a big List truncated while it is being applied: the CLI's memfd is a
# copy, so the apply sees the whole file and the daemon stays up
python3 - "$T_DIR/big.json" <<'PY'
import json, sys
items = [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "big-%d" % i},
          "spec": {"ports": [{"port": 80}]}} for i in range(3000)]
json.dump({"apiVersion": "v1", "kind": "List", "items": items}, open(sys.argv[1], "w"))
PY
pt apply -f "$T_DIR/big.json" >"$T_DIR/big.out" 2>&1 &
apid=$!
: >"$T_DIR/big.json"	# truncate it now
wait "$apid"
n=$(grep -c created "$T_DIR/big.out")
# the copy is whole (3000) or the file was empty or cut (0: a syntax error)
[[ $n == 3000 || $n == 0 ]] && ok "all or nothing of the truncated List ($n)" ||
	fail "a truncated List applied in part: $n of 3000"
kill -0 "$PT_PID" 2>/dev/null && ok "daemon alive after a truncation during apply" || fail "daemon died"
pt status >/dev/null && ok "daemon answers" || fail "daemon answers"
t_done
